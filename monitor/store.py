"""Every Redis key the service uses, and every atomic operation on them, in one place.

Key layout (prefix ``cw:``)::

    cw:feed:{fh}              hash   feed state: url, etag, last_modified, next_poll, errors, last_error, gone, ...
    cw:due                    zset   feed url -> next poll time (unix seconds); a gone (410) feed leaves it
    cw:gone                   set    feed urls that answered 410 (no longer polled; `status` still lists them)
    cw:lease:{fh}             string the poller holding a feed (SET NX PX)
    cw:seen                   set    hashes of "guid:{feed url}|{guid}" and "url:{canonical url}": entries seen
    cw:page:{uh}              string the article fetched for an entry (JSON, 1 day): a re-run after a crash
                                     does not fetch the page again
    cw:article:{uh}           hash   article record: url, title, source, published, status, reason, duplicate_of
    cw:w:{watch}:content      hash   content hash -> url of the first article with that text
    cw:w:{watch}:lsh:{b}      hash   near-duplicate index: MinHash band b's hash -> short ids of its texts
    cw:w:{watch}:doc          hash   short id (8-byte digest) -> text id (article url, seed:file)
    cw:w:{watch}:sig          hash   short id -> MinHash signature (64 x uint32)
    cw:w:{watch}:known        list   JSON sentences the watch knows (seed, accepted articles, alerts)
    cw:w:{watch}:seeded       hash   seed file -> content hash (seeding is idempotent)
    cw:w:{watch}:lock         string novelty lock: judge-and-register is atomic per watch
    cw:alerts                 stream alert log: id, watch, url, title, claims (JSON)
    cw:alert:{alert_id}       string the alert as JSON (kept 30 days; deliveries are rebuilt from it)
    cw:delivery:{alert_id}    hash   sink -> "sent" | "failed: reason"
    cw:dead                   list   JSON deliveries that failed for good (`claimwatch alerts retry` resends them)
    cw:rate:{kind}:{th}       string next free send slot (unix ms) of one chat target (th: hash of its URL/chat)
    cw:rate:{kind}:{th}:block string the target said 429 "retry after": no send before this (unix ms)
    cw:stats                  hash   counters (polls, 304s, errors by kind, articles by outcome, alerts by sink)
    cw:latency                hash   "{stage}:sum" seconds, "{stage}:count", "{stage}:le:{bound}" histogram buckets
    cw:heartbeat:{role}:{id}  string liveness of pollers and workers (expires)
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

import redis

PREFIX = "cw:"


def digest(text: str, n: int = 16) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=n).hexdigest()


def _stream_fields(values: Mapping[str, Any]) -> dict[str, str]:
    return {k: (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)) for k, v in values.items()}


def _s(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


# Mark an entry seen under all its keys unless one of them is already there. KEYS[1] the set.
_MARK_SEEN = """
for i, k in ipairs(ARGV) do
  if redis.call('SISMEMBER', KEYS[1], k) == 1 then return 0 end
end
redis.call('SADD', KEYS[1], unpack(ARGV))
return 1
"""

# Rate limit of one sink target. KEYS[1] next free slot (ms), KEYS[2] blocked-until (ms).
# ARGV[1] interval ms between sends, ARGV[2] "1" when the caller already holds a slot.
# Returns ms to wait: 0 = send now; else the caller holds the slot that many ms from now.
_RATE_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local block = tonumber(redis.call('GET', KEYS[2]) or '0')
if ARGV[2] == '1' and now >= block then return 0 end
local interval = tonumber(ARGV[1])
local slot = math.max(now, block, tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], slot + interval, 'PX', slot + interval - now + 60000)
return slot - now
"""

# A 429 told us to wait: no send to this target before now + ARGV[1] ms. KEYS[1] blocked-until.
_RATE_BLOCK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untl = now + tonumber(ARGV[1])
if untl > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], untl, 'PX', tonumber(ARGV[1]) + 60000)
end
return untl
"""

# Add a member to a space-separated bucket (a hash field) unless it is there. KEYS[1] the hash.
_BUCKET_ADD = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1 end
if string.find(' ' .. v .. ' ', ' ' .. ARGV[2] .. ' ', 1, true) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], v .. ' ' .. ARGV[2])
return 1
"""

# Release a lease only if we still hold it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Store:
    """All state the service keeps, behind named operations. Takes a ``redis.Redis`` client."""

    def __init__(self, client: redis.Redis):
        self.r = client
        self._mark_seen = client.register_script(_MARK_SEEN)
        self._release = client.register_script(_RELEASE)
        self._bucket_add = client.register_script(_BUCKET_ADD)
        self._rate_take = client.register_script(_RATE_TAKE)
        self._rate_block = client.register_script(_RATE_BLOCK)

    # ------------------------------------------------------------------ feeds

    @staticmethod
    def _feed_key(url: str) -> str:
        return f"{PREFIX}feed:{digest(url)}"

    def feed_state(self, url: str) -> dict[str, str]:
        return {_s(k): _s(v) for k, v in self.r.hgetall(self._feed_key(url)).items()}

    def save_feed_state(self, url: str, state: Mapping[str, Any], next_poll: float | None = None) -> None:
        clean = {k: ("" if v is None else str(v)) for k, v in state.items()}
        clean["url"] = url
        pipe = self.r.pipeline()
        pipe.hset(self._feed_key(url), mapping=clean)
        if next_poll is not None:
            pipe.zadd(f"{PREFIX}due", {url: next_poll})
        pipe.execute()

    def register_feeds(self, urls: Iterable[str], now: float | None = None) -> None:
        """Feeds not yet scheduled become due now; known feeds keep their schedule."""
        now = time.time() if now is None else now
        urls = list(urls)
        if urls:
            self.r.zadd(f"{PREFIX}due", {u: now for u in urls}, nx=True)

    def forget_feeds_except(self, urls: Iterable[str]) -> None:
        keep = set(urls)
        for member in self.r.zrange(f"{PREFIX}due", 0, -1):
            if _s(member) not in keep:
                self.r.zrem(f"{PREFIX}due", member)

    def due_feeds(self, now: float, limit: int = 1000) -> list[str]:
        return [_s(m) for m in self.r.zrangebyscore(f"{PREFIX}due", "-inf", now, start=0, num=limit)]

    def next_due(self) -> float | None:
        first = self.r.zrange(f"{PREFIX}due", 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    def schedule(self, url: str, when: float) -> None:
        self.r.zadd(f"{PREFIX}due", {url: when})

    def due_at(self, url: str) -> float | None:
        """When the feed is due next; None when it is not scheduled (unknown, forgotten or gone)."""
        score = self.r.zscore(f"{PREFIX}due", url)
        return None if score is None else float(score)

    def unschedule(self, url: str) -> None:
        """Stop polling a feed (HTTP 410); its state hash stays for ``status``."""
        self.r.zrem(f"{PREFIX}due", url)

    def acquire_lease(self, url: str, owner: str, seconds: float) -> bool:
        return bool(self.r.set(f"{PREFIX}lease:{digest(url)}", owner, nx=True, px=int(seconds * 1000)))

    def release_lease(self, url: str, owner: str) -> None:
        self._release(keys=[f"{PREFIX}lease:{digest(url)}"], args=[owner])

    def feeds(self) -> list[dict[str, str]]:
        urls = [_s(m) for m in self.r.zrange(f"{PREFIX}due", 0, -1)]
        urls += sorted(_s(m) for m in self.r.smembers(f"{PREFIX}gone") if _s(m) not in urls)
        return [self.feed_state(u) | {"url": u} for u in urls]

    # ------------------------------------------------------------------ entries

    def mark_seen(self, keys: Iterable[str]) -> bool:
        """True when none of the keys (GUID, canonical URL, ...) was seen before; marks them all."""
        members = [digest(k) for k in keys if k]
        if not members:
            return False
        return bool(self._mark_seen(keys=[f"{PREFIX}seen"], args=members))

    def unmark_seen(self, keys: Iterable[str]) -> None:
        """Undo ``mark_seen`` (the entry could not be enqueued; the next poll must see it as new)."""
        members = [digest(k) for k in keys if k]
        if members:
            self.r.srem(f"{PREFIX}seen", *members)

    def is_seen(self, key: str) -> bool:
        return bool(self.r.sismember(f"{PREFIX}seen", digest(key)))

    # ------------------------------------------------------------------ articles

    def save_article(self, url: str, record: Mapping[str, Any]) -> None:
        clean = {k: ("" if v is None else str(v)) for k, v in record.items()}
        self.r.hset(f"{PREFIX}article:{digest(url)}", mapping=clean | {"url": url})

    def article(self, url: str) -> dict[str, str]:
        return {_s(k): _s(v) for k, v in self.r.hgetall(f"{PREFIX}article:{digest(url)}").items()}

    def content_owner(self, watch: str, content_hash: str, url: str) -> str | None:
        """Register a text's hash; return the url that had it first, if another one did."""
        key = f"{PREFIX}w:{watch}:content"
        if self.r.hsetnx(key, content_hash, url):
            return None
        owner = _s(self.r.hget(key, content_hash))
        return None if owner == url else owner

    # The near-duplicate index: one hash per LSH band (field: the band's hash, value: space-separated
    # short ids of the texts in that bucket); short ids map to the texts' ids (urls) in one hash.

    def lsh_candidates(self, watch: str, bands: Iterable[str]) -> set[str]:
        pipe = self.r.pipeline()
        for band in bands:
            b, _, h = band.partition(":")
            pipe.hget(f"{PREFIX}w:{watch}:lsh:{b}", h)
        shorts = {x for v in pipe.execute() if v for x in _s(v).split()}
        if not shorts:
            return set()
        ids = self.r.hmget(f"{PREFIX}w:{watch}:doc", sorted(shorts))
        return {_s(i) for i in ids if i is not None}

    def lsh_add(self, watch: str, bands: Iterable[str], doc_id: str) -> None:
        short = digest(doc_id, 8)
        pipe = self.r.pipeline()
        pipe.hset(f"{PREFIX}w:{watch}:doc", short, doc_id)
        for band in bands:
            b, _, h = band.partition(":")
            self._bucket_add(keys=[f"{PREFIX}w:{watch}:lsh:{b}"], args=[h, short], client=pipe)
        pipe.execute()

    def save_shingles(self, watch: str, doc_id: str, signature: bytes) -> None:
        self.r.hset(f"{PREFIX}w:{watch}:sig", digest(doc_id, 8), signature)

    def signatures(self, watch: str, doc_ids: Iterable[str]) -> dict[str, bytes]:
        ids = list(doc_ids)
        if not ids:
            return {}
        values = self.r.hmget(f"{PREFIX}w:{watch}:sig", [digest(i, 8) for i in ids])
        return {i: v for i, v in zip(ids, values, strict=True) if v is not None}

    # ------------------------------------------------------------------ watch knowledge

    def known(self, watch: str, start: int = 0) -> list[dict[str, Any]]:
        return [json.loads(x) for x in self.r.lrange(f"{PREFIX}w:{watch}:known", start, -1)]

    def known_count(self, watch: str) -> int:
        return int(self.r.llen(f"{PREFIX}w:{watch}:known"))

    def register(self, watch: str, items: Iterable[Mapping[str, Any]], alert: Mapping[str, Any] | None,
                 log_fields: Mapping[str, Any] | None) -> None:
        """In one transaction: the sentences become known and, if any were new, the alert is saved and
        logged. A crash leaves either all of it or none (then the article is judged again)."""
        pipe = self.r.pipeline(transaction=True)
        values = [json.dumps(dict(i), ensure_ascii=False) for i in items]
        if values:
            pipe.rpush(f"{PREFIX}w:{watch}:known", *values)
        if alert is not None:
            pipe.set(f"{PREFIX}alert:{alert['id']}", json.dumps(dict(alert), ensure_ascii=False), ex=30 * 86400)
        if log_fields is not None:
            pipe.xadd(f"{PREFIX}alerts", _stream_fields(log_fields), maxlen=10_000, approximate=True)
        pipe.execute()

    def add_known(self, watch: str, items: Iterable[Mapping[str, Any]]) -> None:
        values = [json.dumps(dict(i), ensure_ascii=False) for i in items]
        if values:
            self.r.rpush(f"{PREFIX}w:{watch}:known", *values)

    def seeded(self, watch: str) -> dict[str, str]:
        return {_s(k): _s(v) for k, v in self.r.hgetall(f"{PREFIX}w:{watch}:seeded").items()}

    def mark_seeded(self, watch: str, name: str, content_hash: str) -> None:
        self.r.hset(f"{PREFIX}w:{watch}:seeded", name, content_hash)

    def novelty_lock(self, watch: str, timeout: float = 60.0):
        """A Redis lock (redis-py's) that makes judge-and-register atomic per watch."""
        return self.r.lock(f"{PREFIX}w:{watch}:lock", timeout=timeout, blocking_timeout=timeout)

    # ------------------------------------------------------------------ alerts

    def recent_alerts(self, count: int = 10) -> list[dict[str, str]]:
        out = []
        for _id, fields in self.r.xrevrange(f"{PREFIX}alerts", count=count):
            out.append({_s(k): _s(v) for k, v in fields.items()})
        return out

    def saved_alert(self, alert_id: str) -> dict[str, Any] | None:
        raw = self.r.get(f"{PREFIX}alert:{alert_id}")
        return json.loads(raw) if raw else None

    def delivered(self, alert_id: str, sink: str) -> bool:
        return _s(self.r.hget(f"{PREFIX}delivery:{alert_id}", sink) or b"") == "sent"

    def set_delivery(self, alert_id: str, sink: str, status: str) -> None:
        self.r.hset(f"{PREFIX}delivery:{alert_id}", sink, status)

    def deliveries(self, alert_id: str) -> dict[str, str]:
        return {_s(k): _s(v) for k, v in self.r.hgetall(f"{PREFIX}delivery:{alert_id}").items()}

    def dead_letter(self, item: Mapping[str, Any]) -> None:
        self.r.rpush(f"{PREFIX}dead", json.dumps(dict(item), ensure_ascii=False))

    def dead_letters(self) -> list[dict[str, Any]]:
        return [json.loads(x) for x in self.r.lrange(f"{PREFIX}dead", 0, -1)]

    # ------------------------------------------------------------------ counters and liveness

    def count(self, name: str, n: int = 1) -> None:
        self.r.hincrby(f"{PREFIX}stats", name, n)

    def stats(self) -> dict[str, int]:
        return {_s(k): int(v) for k, v in self.r.hgetall(f"{PREFIX}stats").items()}

    def heartbeat(self, role: str, ident: str, ttl: float = 30.0) -> None:
        self.r.set(f"{PREFIX}heartbeat:{role}:{ident}", str(time.time()), px=int(ttl * 1000))

    def alive(self, role: str) -> list[str]:
        return [_s(k).rsplit(":", 1)[-1] for k in self.r.scan_iter(f"{PREFIX}heartbeat:{role}:*")]

    # ------------------------------------------------------------------ delivery: rate limits, dead letters

    def rate_slot(self, key: str, interval: float, *, reserved: bool = False) -> float:
        """Seconds until this sender may send to the target ``key`` (0: now), at most one send per
        ``interval`` seconds across every worker. A positive answer is a reservation: the caller
        comes back after that long with ``reserved=True`` and sends at once, unless the target has
        since said to wait (``rate_block``), in which case it gets a new slot after the block."""
        wait = self._rate_take(keys=[f"{PREFIX}rate:{key}", f"{PREFIX}rate:{key}:block"],
                               args=[max(0, int(interval * 1000)), "1" if reserved else "0"])
        return max(0, int(wait)) / 1000.0

    def rate_block(self, key: str, seconds: float) -> None:
        """The target answered 429 with a wait: no one sends to it for ``seconds``."""
        if seconds > 0:
            self._rate_block(keys=[f"{PREFIX}rate:{key}:block"], args=[int(seconds * 1000)])

    def take_dead_letters(self, sink: str | None = None, alert_id: str | None = None) -> list[dict[str, Any]]:
        """Remove and return the dead letters of ``sink`` / ``alert_id`` (every one when None). Each
        is removed exactly once (LREM), so two concurrent callers never both get the same letter."""
        out = []
        for raw in self.r.lrange(f"{PREFIX}dead", 0, -1):
            item = json.loads(raw)
            if sink is not None and item.get("sink") != sink:
                continue
            if alert_id is not None and (item.get("alert") or {}).get("id") != alert_id:
                continue
            if self.r.lrem(f"{PREFIX}dead", 1, raw):
                out.append(item)
        return out

    def clear_delivery(self, alert_id: str, sink: str) -> None:
        """Forget a failed delivery's status (before it is sent again)."""
        self.r.hdel(f"{PREFIX}delivery:{alert_id}", sink)

    # ------------------------------------------------------------------ reliability (issue 6)

    def mark_gone(self, url: str) -> None:
        """A feed answered 410: stop polling it; ``feeds()`` (hence ``status``) keeps showing it."""
        pipe = self.r.pipeline()
        pipe.zrem(f"{PREFIX}due", url)
        pipe.sadd(f"{PREFIX}gone", url)
        pipe.execute()

    def forget_gone_except(self, urls: Iterable[str]) -> None:
        """A gone feed removed from the config is forgotten: added back later, it is polled again."""
        keep = set(urls)
        for member in self.r.smembers(f"{PREFIX}gone"):
            url = _s(member)
            if url not in keep:
                self.r.srem(f"{PREFIX}gone", url)
                self.r.hdel(self._feed_key(url), "gone")

    def clear_leases(self) -> int:
        """Drop every feed lease and novelty lock (start-up of a service that owns its Redis: nobody else
        can hold one; a process killed while holding one would otherwise block the others until it expires)."""
        keys = list(self.r.scan_iter(f"{PREFIX}lease:*")) + list(self.r.scan_iter(f"{PREFIX}w:*:lock"))
        return int(self.r.delete(*keys)) if keys else 0

    def cache_page(self, url: str, article: Mapping[str, Any], ttl: int = 86400) -> None:
        self.r.set(f"{PREFIX}page:{digest(url)}", json.dumps(dict(article), ensure_ascii=False), ex=ttl)

    def cached_page(self, url: str) -> dict[str, Any] | None:
        raw = self.r.get(f"{PREFIX}page:{digest(url)}")
        return json.loads(raw) if raw else None

    LATENCY_BOUNDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

    def observe(self, stage: str, seconds: float) -> None:
        """One observation of a stage's duration: a sum, a count and one histogram bucket (cheap: one round trip)."""
        bound = next((b for b in self.LATENCY_BOUNDS if seconds <= b), "inf")
        pipe = self.r.pipeline(transaction=False)
        pipe.hincrbyfloat(f"{PREFIX}latency", f"{stage}:sum", max(0.0, seconds))
        pipe.hincrby(f"{PREFIX}latency", f"{stage}:count", 1)
        pipe.hincrby(f"{PREFIX}latency", f"{stage}:le:{bound}", 1)
        pipe.execute()

    def latencies(self) -> dict[str, dict[str, Any]]:
        """stage -> {"sum": s, "count": n, "buckets": [(bound, cumulative count), ..., ("+Inf", n)]}."""
        raw = {_s(k): _s(v) for k, v in self.r.hgetall(f"{PREFIX}latency").items()}
        out: dict[str, dict[str, Any]] = {}
        for key, value in raw.items():
            stage, _, rest = key.partition(":")
            d = out.setdefault(stage, {"sum": 0.0, "count": 0, "per": {}})
            if rest == "sum":
                d["sum"] = float(value)
            elif rest == "count":
                d["count"] = int(value)
            elif rest.startswith("le:"):
                d["per"][rest[3:]] = int(value)
        for d in out.values():
            running, buckets = 0, []
            for b in self.LATENCY_BOUNDS:
                running += d["per"].get(str(b), 0)
                buckets.append((str(b), running))
            buckets.append(("+Inf", d["count"]))
            d["buckets"] = buckets
            del d["per"]
        return out

    def heartbeat_ages(self, role: str) -> dict[str, float]:
        """ident -> seconds since its last heartbeat, for the live (unexpired) ones."""
        keys = list(self.r.scan_iter(f"{PREFIX}heartbeat:{role}:*"))
        values = self.r.mget(keys) if keys else []
        now = time.time()
        out = {}
        for k, v in zip(keys, values, strict=True):
            if v is not None:
                try:
                    out[_s(k).split(f"heartbeat:{role}:", 1)[1]] = max(0.0, now - float(_s(v)))
                except ValueError:
                    continue
        return out
