"""Every Redis key the service uses, and every atomic operation on them, in one place.

Key layout (prefix ``cw:``)::

    cw:feed:{fh}              hash   feed state: url, etag, last_modified, next_poll, errors, last_error, gone, ...
    cw:due                    zset   feed url -> next poll time (unix seconds); a gone (410) feed leaves it
    cw:gone                   set    feed urls that answered 410 (no longer polled; `status` still lists them)
    cw:lease:{fh}             string the poller holding a feed (SET NX PX)
    cw:seen:packed            hash   entries seen: bucket (first 10 bits) -> 8-byte digests of "guid:{feed url}|{guid}"
                                     and "url:{canonical url}", end to end (packed: ~10 B per key, not ~65)
    cw:page:{uh}              string the article fetched for an entry (zlib JSON, 1 day): a re-run after a
                                     crash does not fetch the page again
    cw:articles               hash   8-byte url digest -> article record: status, from_summary, watch:{name},
                                     duplicate_of ("name RS value" joined by US)
    cw:w:{watch}:owner        hash   content hash (8 bytes) -> short id of the first text with that content
    cw:w:{watch}:docs         hash   short id (8 bytes) -> text id (article url, seed:file), after its MinHash
                                     signature (64 x uint16) once indexed; also names known sentences' sources
    cw:w:{watch}:lsh          hash   near-duplicate index, packed: band + bucket -> 12-byte records (band
                                     hash, short id), 16 bands of 4 rows
    cw:w:{watch}:known        list   sentences the watch knows (seed, accepted articles, alerts): compact
                                     records (source by short id, packed terms, raw float16 vector) or JSON
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

Keys of the layout before (cw:seen, cw:article:*, cw:w:*:content, :doc, :sig, :lsh:{b}) are not written any
more; cw:seen is still read, so entries seen before an upgrade stay seen. Delete the others at will.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

import redis

PREFIX = "cw:"
LOCK_POLL = 0.002  # seconds between a novelty-lock waiter's attempts


def digest(text: str, n: int = 16) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=n).hexdigest()


BUCKET_BITS = 10  # packed buckets (seen markers; LSH, per band): 1,024, ~100 records each at 100k articles


def key8(text: str) -> bytes:
    """8 binary bytes naming a key (an entry's seen key, an article url): the first half of ``digest``."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()[:8]


def short_id(doc_id: str) -> bytes:
    """A text's id in the near-duplicate index: ``digest(doc_id, 8)`` as binary."""
    return hashlib.blake2b(doc_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()


def _bucket(d: bytes) -> bytes:
    return (int.from_bytes(d[:2], "big") >> (16 - BUCKET_BITS)).to_bytes(2, "big")


def _doc_value(doc_id: str, signature: bytes | None = None) -> bytes:
    """A doc hash value: the text id, after \\x01 + 2-byte length + signature once it is indexed."""
    url = doc_id.encode("utf-8", "surrogatepass")
    return url if signature is None else b"\x01" + len(signature).to_bytes(2, "big") + signature + url


def _parse_doc(value: bytes) -> tuple[str, bytes | None]:
    """(text id, signature or None) of a doc hash value."""
    if value[:1] == b"\x01":
        n = int.from_bytes(value[1:3], "big")
        return value[3 + n:].decode("utf-8", "surrogatepass"), value[3:3 + n]
    return value.decode("utf-8", "surrogatepass"), None


# Known sentences: one list element each. Compact form: \x03, the source's short id (8 bytes; the
# doc hash maps it to the source), then kind US lang US published US model US terms US vector
# length US, the raw float16 vector, the text (\x02: the same without terms, as written before).
# A record this cannot hold exactly is kept as JSON.
_KNOWN_FIELDS = frozenset({"text", "source", "kind", "lang", "published", "model", "vec", "terms"})
_HEADER = ("kind", "lang", "published", "model", "terms")
_HEADERS = {b"\x02": _HEADER[:4], b"\x03": _HEADER}


def _known_compact(rec: Mapping[str, Any]) -> tuple[bytes, bytes, str] | None:
    """(element, short id, source) of a record in the compact form, or None if it does not fit."""
    if not set(rec) <= _KNOWN_FIELDS or not isinstance(rec.get("text"), str):
        return None
    source = rec.get("source")
    if not isinstance(source, str) or not source:
        return None
    head = []
    for name in _HEADER:
        v = rec.get(name)
        if name not in rec or (v is None and name == "published"):
            head.append("")
        elif not isinstance(v, str) or not v or "\x1f" in v:
            return None
        else:
            head.append(v)
    vec = b""
    if "vec" in rec:
        try:
            vec = base64.b64decode(rec["vec"], validate=True) if rec["vec"] else b""
        except (ValueError, TypeError):
            return None
        if not vec or base64.b64encode(vec).decode("ascii") != rec["vec"]:
            return None
    short = short_id(source)
    header = "\x1f".join([*head, str(len(vec)), ""]).encode("utf-8", "surrogatepass")
    return b"\x03" + short + header + vec + rec["text"].encode("utf-8", "surrogatepass"), short, source


def _known_encode(items: Iterable[Mapping[str, Any]]) -> tuple[list[bytes | str], dict[bytes, str]]:
    """List elements for known-sentence records, and the sources they name (short id -> source)."""
    values: list[bytes | str] = []
    sources: dict[bytes, str] = {}
    for i in items:
        packed = _known_compact(i)
        if packed is None:
            values.append(json.dumps(dict(i), ensure_ascii=False))
        else:
            values.append(packed[0])
            sources[packed[1]] = packed[2]
    return values, sources


def _known_decode(raw: bytes) -> tuple[dict[str, Any], bytes | None]:
    """A record and, in the compact form, the short id of its source (to be resolved)."""
    names = _HEADERS.get(raw[:1])
    if names is None:
        return json.loads(raw), None
    short = raw[1:9]
    *head, nvec, rest = raw[9:].split(b"\x1f", len(names) + 1)
    n = int(nvec)
    rec: dict[str, Any] = {"text": rest[n:].decode("utf-8", "surrogatepass")}
    for name, v in zip(names, head, strict=True):
        if v:
            rec[name] = v.decode("utf-8", "surrogatepass")
    if "published" not in rec:
        rec["published"] = None
    if n:
        rec["vec"] = base64.b64encode(rest[:n]).decode("ascii")
    return rec, short


def _stream_fields(values: Mapping[str, Any]) -> dict[str, str]:
    return {k: (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)) for k, v in values.items()}


def _s(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def _clean(v: str) -> str:
    return v.replace("\x1e", " ").replace("\x1f", " ")


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

# Release a lease only if we still hold it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# A poll's first round trip. KEYS[1] lease, KEYS[2] due zset, KEYS[3] feed state, KEYS[4] stats.
# ARGV[1] owner, ARGV[2] lease ms, ARGV[3] feed url, ARGV[4] "" or now: poll only if due by then.
# 0: another poller holds the lease; 1: not due (the lease is let go); else {2, state as HGETALL}.
_POLL_BEGIN = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
if ARGV[4] ~= '' then
  local due = redis.call('ZSCORE', KEYS[2], ARGV[3])
  if not due or tonumber(due) > tonumber(ARGV[4]) then
    redis.call('DEL', KEYS[1])
    return 1
  end
end
redis.call('HINCRBY', KEYS[4], 'feed_poll', 1)
return {2, redis.call('HGETALL', KEYS[3])}
"""

# A poll's last round trip. KEYS[1] feed state, KEYS[2] due zset, KEYS[3] lease, KEYS[4] stats,
# KEYS[5] latency. ARGV: owner, url, next poll ("" = none), then three counted runs: 2n state
# fields/values, 2n counter names/increments, 3n stage timings (stage, seconds, histogram bound).
_POLL_FINISH = """
local i = 4
local n = tonumber(ARGV[i])
if n > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, i + 1, i + n)) end
i = i + n + 1
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2]) end
n = tonumber(ARGV[i])
for j = i + 1, i + n, 2 do redis.call('HINCRBY', KEYS[4], ARGV[j], ARGV[j + 1]) end
i = i + n + 1
n = tonumber(ARGV[i])
for j = i + 1, i + n, 3 do
  redis.call('HINCRBYFLOAT', KEYS[5], ARGV[j] .. ':sum', ARGV[j + 1])
  redis.call('HINCRBY', KEYS[5], ARGV[j] .. ':count', 1)
  redis.call('HINCRBY', KEYS[5], ARGV[j] .. ':le:' .. ARGV[j + 2], 1)
end
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
return 1
"""

# Packed buckets (the seen markers, the LSH index): a hash whose field is a bucket (a few bits of a
# digest) and whose value is fixed-width binary records laid end to end. Per record that costs its
# bytes, where one hash field or set member costs ~60 B of Redis overhead. ``_at(v, rec, w)``: the
# offset (1-based) of ``rec`` at a record boundary of ``v`` (width ``w``), or nil.
_PACKED = r"""
local function _at(v, rec, w, init)
  init = init or 1
  while true do
    local p = string.find(v, rec, init, true)
    if not p then return nil end
    if (p - 1) % w == 0 then return p end
    init = p + 1
  end
end
"""

# Mark an entry seen under all its keys unless one of them is already there. KEYS[1] the packed seen
# hash, KEYS[2] the set of the old layout (read only, so entries seen before an upgrade stay seen).
# ARGV: triples (bucket, 8-byte record, old member).
_SEEN_MARK = _PACKED + r"""
for i = 1, #ARGV, 3 do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if v and _at(v, ARGV[i + 1], 8) then return 0 end
  if redis.call('SISMEMBER', KEYS[2], ARGV[i + 2]) == 1 then return 0 end
end
for i = 1, #ARGV, 3 do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if not v then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  elseif not _at(v, ARGV[i + 1], 8) then redis.call('HSET', KEYS[1], ARGV[i], v .. ARGV[i + 1]) end
end
return 1
"""

# Undo a mark. KEYS/ARGV as _SEEN_MARK.
_SEEN_UNMARK = _PACKED + r"""
for i = 1, #ARGV, 3 do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  local p = v and _at(v, ARGV[i + 1], 8)
  if p then
    v = string.sub(v, 1, p - 1) .. string.sub(v, p + 8)
    if v == '' then redis.call('HDEL', KEYS[1], ARGV[i]) else redis.call('HSET', KEYS[1], ARGV[i], v) end
  end
  redis.call('SREM', KEYS[2], ARGV[i + 2])
end
return 1
"""

# Index a text for near-duplicate lookups. KEYS[1] the LSH hash, KEYS[2] the doc hash.
# ARGV[1] short id (8 bytes), ARGV[2] doc value (\1 + signature + text id); then pairs
# (band bucket, 4-byte band key): each band adds the 12-byte record key .. short id to its bucket.
_LSH_ADD = _PACKED + r"""
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
for i = 3, #ARGV, 2 do
  local rec = ARGV[i + 1] .. ARGV[1]
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if not v then redis.call('HSET', KEYS[1], ARGV[i], rec)
  elseif not _at(v, rec, 12) then redis.call('HSET', KEYS[1], ARGV[i], v .. rec) end
end
return 1
"""

# The texts sharing a band with a signature, as their doc values. KEYS as _LSH_ADD; ARGV pairs
# (band bucket, 4-byte band key).
_LSH_FIND = _PACKED + r"""
local seen, shorts = {}, {}
for i = 1, #ARGV, 2 do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  local p = v and _at(v, ARGV[i + 1], 12)
  while p do
    local s = string.sub(v, p + 4, p + 11)
    if not seen[s] then seen[s] = true; shorts[#shorts + 1] = s end
    p = _at(v, ARGV[i + 1], 12, p + 12)
  end
end
if #shorts == 0 then return {} end
local vals = redis.call('HMGET', KEYS[2], unpack(shorts))
local out = {}
for i = 1, #shorts do if vals[i] then out[#out + 1] = vals[i] end end
return out
"""

# Register a text's content hash. KEYS[1] the owner hash (content hash -> short id), KEYS[2] the doc
# hash. ARGV[1] content hash (8 bytes), ARGV[2] short id, ARGV[3] text id. Returns the owner's doc
# value when another text had this content first, else nil.
_CONTENT_OWNER = r"""
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if not owner then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[3])
  return nil
end
if owner == ARGV[2] then return nil end
return redis.call('HGET', KEYS[2], owner)
"""

# Merge fields into an article record: one hash field per article, "name RS value" pairs joined by US.
# KEYS[1] the articles hash; ARGV[1] the article's field; then pairs (name, value).
_ARTICLE_SET = r"""
local cur = redis.call('HGET', KEYS[1], ARGV[1]) or ''
local rec, order = {}, {}
for k, v in string.gmatch(cur, '([^\30\31]*)\30([^\31]*)') do
  if rec[k] == nil then order[#order + 1] = k end
  rec[k] = v
end
for i = 2, #ARGV, 2 do
  if rec[ARGV[i]] == nil then order[#order + 1] = ARGV[i] end
  rec[ARGV[i]] = ARGV[i + 1]
end
local out = {}
for _, k in ipairs(order) do out[#out + 1] = k .. '\30' .. rec[k] end
redis.call('HSET', KEYS[1], ARGV[1], table.concat(out, '\31'))
return 1
"""


class Store:
    """All state the service keeps, behind named operations. Takes a ``redis.Redis`` client."""

    def __init__(self, client: redis.Redis):
        self.r = client
        self._seen_mark = client.register_script(_SEEN_MARK)
        self._seen_unmark = client.register_script(_SEEN_UNMARK)
        self._lsh_add = client.register_script(_LSH_ADD)
        self._lsh_find = client.register_script(_LSH_FIND)
        self._content_owner = client.register_script(_CONTENT_OWNER)
        self._article_set = client.register_script(_ARTICLE_SET)
        self._release = client.register_script(_RELEASE)
        self._poll_begin = client.register_script(_POLL_BEGIN)
        self._poll_finish = client.register_script(_POLL_FINISH)
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

    def release_lease(self, url: str, owner: str) -> None:
        self._release(keys=[f"{PREFIX}lease:{digest(url)}"], args=[owner])

    def begin_poll(self, url: str, owner: str, lease: float, *, due_by: float | None = None) -> dict[str, str] | None:
        """One round trip: take the feed's lease for ``lease`` seconds, count the poll and return the feed's
        state. None when another poller holds the lease, or, with ``due_by``, when the feed is not due by
        then (unscheduled, or another poller polled it since; the lease is let go at once)."""
        fh = digest(url)
        got = self._poll_begin(keys=[f"{PREFIX}lease:{fh}", f"{PREFIX}due", f"{PREFIX}feed:{fh}", f"{PREFIX}stats"],
                               args=[owner, max(1, int(lease * 1000)), url, "" if due_by is None else repr(due_by)])
        if not isinstance(got, list):
            return None
        flat = got[1]
        return {_s(flat[i]): _s(flat[i + 1]) for i in range(0, len(flat), 2)}

    def finish_poll(self, url: str, owner: str, state: Mapping[str, Any], *, next_poll: float | None = None,
                    counts: Mapping[str, int] | None = None, timings: Mapping[str, float] | None = None) -> None:
        """One round trip: save ``state`` (the fields that changed) on the feed, schedule its next poll, add
        ``counts`` to the counters and ``timings`` (stage -> seconds) to the latencies, and let go of the
        lease if ``owner`` still holds it."""
        fh = digest(url)
        args: list[Any] = [owner, url, "" if next_poll is None else repr(float(next_poll)), 2 * len(state)]
        for k, v in state.items():
            args += [k, "" if v is None else str(v)]
        args.append(2 * len(counts or {}))
        for k, n in (counts or {}).items():
            args += [k, int(n)]
        args.append(3 * len(timings or {}))
        for stage, seconds in (timings or {}).items():
            args += [stage, repr(max(0.0, float(seconds))), self.bucket(seconds)]
        self._poll_finish(keys=[f"{PREFIX}feed:{fh}", f"{PREFIX}due", f"{PREFIX}lease:{fh}", f"{PREFIX}stats",
                                f"{PREFIX}latency"], args=args)

    def feeds(self) -> list[dict[str, str]]:
        urls = [_s(m) for m in self.r.zrange(f"{PREFIX}due", 0, -1)]
        urls += sorted(_s(m) for m in self.r.smembers(f"{PREFIX}gone") if _s(m) not in urls)
        return [self.feed_state(u) | {"url": u} for u in urls]

    # ------------------------------------------------------------------ entries

    @staticmethod
    def _seen_args(keys: Iterable[str]) -> list[bytes | str]:
        args: list[bytes | str] = []
        for k in keys:
            if k:
                d = digest(k)  # the old layout's member; the new record is its first 8 bytes
                rec = bytes.fromhex(d)[:8]
                args += [_bucket(rec), rec, d]
        return args

    def mark_seen(self, keys: Iterable[str]) -> bool:
        """True when none of the keys (GUID, canonical URL, ...) was seen before; marks them all."""
        args = self._seen_args(keys)
        if not args:
            return False
        return bool(self._seen_mark(keys=[f"{PREFIX}seen:packed", f"{PREFIX}seen"], args=args))

    def unmark_seen(self, keys: Iterable[str]) -> None:
        """Undo ``mark_seen`` (the entry could not be enqueued; the next poll must see it as new)."""
        args = self._seen_args(keys)
        if args:
            self._seen_unmark(keys=[f"{PREFIX}seen:packed", f"{PREFIX}seen"], args=args)

    def is_seen(self, key: str) -> bool:
        rec = key8(key)
        v = self.r.hget(f"{PREFIX}seen:packed", _bucket(rec)) or b""
        if any(v[i:i + 8] == rec for i in range(0, len(v), 8)):
            return True
        return bool(self.r.sismember(f"{PREFIX}seen", digest(key)))

    # ------------------------------------------------------------------ articles

    def save_article(self, url: str, record: Mapping[str, Any]) -> None:
        """Merge fields into the article's record (one packed field of ``cw:articles``: the pipeline
        keeps only what is read back: ``status``, which makes a re-run of a finished job a no-op;
        ``from_summary``; ``watch:{name}`` outcomes; ``duplicate_of``)."""
        args: list[bytes | str] = [key8(url)]
        for k, v in record.items():
            args += [_clean(k), _clean("" if v is None else str(v))]
        if len(args) > 1:
            self._article_set(keys=[f"{PREFIX}articles"], args=args)

    def article(self, url: str) -> dict[str, str]:
        raw = self.r.hget(f"{PREFIX}articles", key8(url))
        if raw is None:
            return {}
        rec = dict(p.split("\x1e", 1) for p in _s(raw).split("\x1f") if "\x1e" in p)
        return rec | {"url": url}

    def content_owner(self, watch: str, content_hash: str, url: str) -> str | None:
        """Register a text's hash; return the url that had it first, if another one did."""
        try:
            field = bytes.fromhex(content_hash)[:8]
        except ValueError:
            field = b""
        if len(field) < 8:
            field = key8(content_hash)
        owner = self._content_owner(keys=[f"{PREFIX}w:{watch}:owner", f"{PREFIX}w:{watch}:docs"],
                                    args=[field, short_id(url), _doc_value(url)])
        if owner is None:
            return None
        owner_url = _parse_doc(owner)[0]
        return None if owner_url == url else owner_url

    # The near-duplicate index. ``docs``: short id (8 bytes) -> the text's id, after its signature once
    # indexed. ``lsh``: packed buckets; field = band (1 byte) + the first BUCKET_BITS bits of the band's
    # hash, value = 12-byte records (4 more bytes of the band's hash, the text's short id). A band is
    # "b:{16 hex digits}" (``workers.dedup.Signature.bands``).

    @staticmethod
    def _band_args(bands: Iterable[str]) -> list[bytes]:
        args: list[bytes] = []
        for band in bands:
            b, _, h = band.partition(":")
            d = bytes.fromhex(h)
            args += [bytes([int(b)]) + _bucket(d), d[2:6]]
        return args

    def lsh_candidates(self, watch: str, bands: Iterable[str]) -> dict[str, bytes]:
        """The indexed texts sharing a band with ``bands``: text id -> its stored signature. One round trip."""
        values = self._lsh_find(keys=[f"{PREFIX}w:{watch}:lsh", f"{PREFIX}w:{watch}:docs"],
                                args=self._band_args(bands))
        out = {}
        for v in values or ():
            doc_id, sig = _parse_doc(v)
            if sig is not None:
                out[doc_id] = sig
        return out

    def lsh_add(self, watch: str, bands: Iterable[str], doc_id: str, signature: bytes) -> None:
        """Index a text (idempotent): its signature, and its id in each band's bucket."""
        short = short_id(doc_id)
        self._lsh_add(keys=[f"{PREFIX}w:{watch}:lsh", f"{PREFIX}w:{watch}:docs"],
                      args=[short, _doc_value(doc_id, signature), *self._band_args(bands)])

    def known(self, watch: str, start: int = 0) -> list[dict[str, Any]]:
        """Known-sentence records from position ``start`` on (either form; sources resolved)."""
        out, refs = [], {}
        for raw in self.r.lrange(f"{PREFIX}w:{watch}:known", start, -1):
            rec, short = _known_decode(raw)
            out.append(rec)
            if short is not None:
                refs.setdefault(short, []).append(rec)
        shorts = list(refs)
        for i in range(0, len(shorts), 10_000):
            chunk = shorts[i:i + 10_000]
            for short, v in zip(chunk, self.r.hmget(f"{PREFIX}w:{watch}:docs", chunk), strict=True):
                source = _parse_doc(v)[0] if v is not None else ""
                for rec in refs[short]:
                    rec["source"] = source
        return out

    def known_count(self, watch: str) -> int:
        return int(self.r.llen(f"{PREFIX}w:{watch}:known"))

    def register(self, watch: str, items: Iterable[Mapping[str, Any]], alert: Mapping[str, Any] | None,
                 log_fields: Mapping[str, Any] | None) -> None:
        """In one transaction: the sentences become known and, if any were new, the alert is saved and
        logged. A crash leaves either all of it or none (then the article is judged again)."""
        pipe = self.r.pipeline(transaction=True)
        values, sources = _known_encode(items)
        for short, source in sources.items():  # the compact records name their source by short id
            pipe.hsetnx(f"{PREFIX}w:{watch}:docs", short, _doc_value(source))
        if values:
            pipe.rpush(f"{PREFIX}w:{watch}:known", *values)
        if alert is not None:
            pipe.set(f"{PREFIX}alert:{alert['id']}", json.dumps(dict(alert), ensure_ascii=False), ex=30 * 86400)
        if log_fields is not None:
            pipe.xadd(f"{PREFIX}alerts", _stream_fields(log_fields), maxlen=10_000, approximate=True)
        pipe.execute()

    def add_known(self, watch: str, items: Iterable[Mapping[str, Any]]) -> None:
        self.register(watch, items, None, None)

    def seeded(self, watch: str) -> dict[str, str]:
        return {_s(k): _s(v) for k, v in self.r.hgetall(f"{PREFIX}w:{watch}:seeded").items()}

    def mark_seeded(self, watch: str, name: str, content_hash: str) -> None:
        self.r.hset(f"{PREFIX}w:{watch}:seeded", name, content_hash)

    def add_profile(self, watch: str, stems: Iterable[str]) -> None:
        """Stems of terms topical for the watch (``monitor.profile``), for the poller's first pass."""
        stems = list(stems)
        if stems:
            self.r.sadd(f"{PREFIX}w:{watch}:profile", *stems)

    def profile(self, watch: str) -> set[str]:
        return {_s(v) for v in self.r.smembers(f"{PREFIX}w:{watch}:profile")}

    def novelty_lock(self, watch: str, timeout: float = 60.0):
        """A Redis lock (redis-py's) that makes judge-and-register atomic per watch. A waiter retries every
        ``LOCK_POLL`` s (redis-py's default, 0.1 s, made a second worker wait far longer than the
        few milliseconds the lock is held: two workers ran at 1.3x one)."""
        return self.r.lock(f"{PREFIX}w:{watch}:lock", timeout=timeout, blocking_timeout=timeout, sleep=LOCK_POLL)

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
        """The article of a page, zlib-compressed JSON (its text and paragraphs repeat each other)."""
        raw = zlib.compress(json.dumps(dict(article), ensure_ascii=False).encode("utf-8", "surrogatepass"), 6)
        self.r.set(f"{PREFIX}page:{digest(url)}", raw, ex=ttl)

    def cached_page(self, url: str) -> dict[str, Any] | None:
        raw = self.r.get(f"{PREFIX}page:{digest(url)}")
        if not raw:
            return None
        return json.loads(raw if raw[:1] == b"{" else zlib.decompress(raw))  # plain JSON: the old form

    LATENCY_BOUNDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

    @classmethod
    def bucket(cls, seconds: float) -> str:
        """The histogram bucket (upper bound) of an observation."""
        return str(next((b for b in cls.LATENCY_BOUNDS if seconds <= b), "inf"))

    def observe(self, stage: str, seconds: float) -> None:
        """One observation of a stage's duration: a sum, a count and one histogram bucket (cheap: one round trip)."""
        self.observe_many({stage: seconds})

    def observe_many(self, timings: Mapping[str, float]) -> None:
        """Several stages' observations in one round trip."""
        pipe = self.r.pipeline(transaction=False)
        for stage, seconds in timings.items():
            pipe.hincrbyfloat(f"{PREFIX}latency", f"{stage}:sum", max(0.0, seconds))
            pipe.hincrby(f"{PREFIX}latency", f"{stage}:count", 1)
            pipe.hincrby(f"{PREFIX}latency", f"{stage}:le:{self.bucket(seconds)}", 1)
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
