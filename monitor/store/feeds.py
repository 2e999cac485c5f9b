"""Feeds: their state, their schedule, and the lease a poller holds while it polls one.

A poll costs two round trips whatever happens in between: ``begin_poll`` (take the lease, check the
feed is still due, count the poll, read the state) and ``finish_poll`` (write the changed state
fields, schedule the next poll, add counters and timings, let go of the lease): with them, a feed
that answers 304 costs the poller 0.29 ms of CPU (benchmarks/polling.py; 1.8-2.8 ms before).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import redis

from monitor.store import keys
from monitor.store.metrics import latency_bucket
from monitor.store.values import as_str, as_str_dict

# A poll's first round trip. KEYS: lease, due zset, feed state, stats.
# ARGV: owner, lease ms, feed url, "" or now: poll only if due by then.
# Returns 0: another poller holds the lease; 1: not due (the lease is let go); else {2, state as HGETALL}.
BEGIN_POLL = """
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

# A poll's last round trip. KEYS: feed state, due zset, lease, stats, latency. ARGV: owner, url, next
# poll ("" = none), then three counted runs: 2n state fields/values, 2n counter names/increments, 3n
# stage timings (stage, seconds, histogram bound; the fields ``metrics.Metrics.observe_many`` writes).
FINISH_POLL = """
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

# Let go of a lease only if we still hold it. KEYS: lease. ARGV: owner.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _field(value: Any) -> str:
    return "" if value is None else str(value)


class Feeds:
    """The feeds' state (``cw:feed:*``), schedule (``cw:due``, ``cw:gone``) and leases (``cw:lease:*``)."""

    def __init__(self, client: redis.Redis):
        self.client = client
        self._begin_poll = client.register_script(BEGIN_POLL)
        self._finish_poll = client.register_script(FINISH_POLL)
        self._release = client.register_script(RELEASE)

    # ------------------------------------------------------------------ state

    def state(self, url: str) -> dict[str, str]:
        return as_str_dict(self.client.hgetall(keys.feed(url)))

    def save_state(self, url: str, state: Mapping[str, Any], next_poll: float | None = None) -> None:
        """Write fields of the feed's state and, with ``next_poll``, schedule it then."""
        pipe = self.client.pipeline()
        pipe.hset(keys.feed(url), mapping={k: _field(v) for k, v in state.items()} | {"url": url})
        if next_poll is not None:
            pipe.zadd(keys.DUE, {url: next_poll})
        pipe.execute()

    def all(self) -> list[dict[str, str]]:
        """Every feed's state: the scheduled ones by next poll, then the gone ones."""
        urls = [as_str(m) for m in self.client.zrange(keys.DUE, 0, -1)]
        scheduled = set(urls)
        urls += sorted(u for u in map(as_str, self.client.smembers(keys.GONE)) if u not in scheduled)
        return [self.state(u) | {"url": u} for u in urls]

    # ------------------------------------------------------------------ schedule

    def register(self, urls: Iterable[str], now: float | None = None) -> None:
        """Feeds not yet scheduled become due now; known feeds keep their schedule."""
        now = time.time() if now is None else now
        urls = list(urls)
        if urls:
            self.client.zadd(keys.DUE, {u: now for u in urls}, nx=True)

    def forget_except(self, urls: Iterable[str]) -> None:
        """Unschedule the feeds not in ``urls`` (removed from the config)."""
        keep = set(urls)
        for member in self.client.zrange(keys.DUE, 0, -1):
            if as_str(member) not in keep:
                self.client.zrem(keys.DUE, member)

    def due(self, now: float, limit: int = 1000) -> list[str]:
        """The feeds due by ``now``, soonest first."""
        return [as_str(m) for m in self.client.zrangebyscore(keys.DUE, "-inf", now, start=0, num=limit)]

    def next_due(self) -> float | None:
        """When the next feed is due; None when none is scheduled."""
        first = self.client.zrange(keys.DUE, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    def mark_gone(self, url: str) -> None:
        """A feed answered 410: stop polling it; ``all()`` (hence ``status``) keeps showing it."""
        pipe = self.client.pipeline()
        pipe.zrem(keys.DUE, url)
        pipe.sadd(keys.GONE, url)
        pipe.execute()

    def forget_gone_except(self, urls: Iterable[str]) -> None:
        """A gone feed removed from the config is forgotten: added back later, it is polled again."""
        keep = set(urls)
        for url in map(as_str, self.client.smembers(keys.GONE)):
            if url not in keep:
                self.client.srem(keys.GONE, url)
                self.client.hdel(keys.feed(url), "gone")

    # ------------------------------------------------------------------ a poll, under its lease

    def begin_poll(self, url: str, owner: str, lease: float, *, due_by: float | None = None) -> dict[str, str] | None:
        """One round trip: take the feed's lease for ``lease`` seconds, count the poll and return the feed's
        state. None when another poller holds the lease, or, with ``due_by``, when the feed is not due by
        then (unscheduled, or another poller polled it since; the lease is let go at once)."""
        got = self._begin_poll(keys=[keys.lease(url), keys.DUE, keys.feed(url), keys.STATS],
                               args=[owner, max(1, int(lease * 1000)), url, "" if due_by is None else repr(due_by)])
        if not isinstance(got, list):
            return None
        flat = got[1]
        return {as_str(flat[i]): as_str(flat[i + 1]) for i in range(0, len(flat), 2)}

    def finish_poll(self, url: str, owner: str, state: Mapping[str, Any], *, next_poll: float | None = None,
                    counts: Mapping[str, int] | None = None, timings: Mapping[str, float] | None = None) -> None:
        """One round trip: save ``state`` (the fields that changed) on the feed, schedule its next poll, add
        ``counts`` to the counters and ``timings`` (stage -> seconds) to the latencies, and let go of the
        lease if ``owner`` still holds it."""
        args: list[Any] = [owner, url, "" if next_poll is None else repr(float(next_poll)), 2 * len(state)]
        for k, v in state.items():
            args += [k, _field(v)]
        args.append(2 * len(counts or {}))
        for k, n in (counts or {}).items():
            args += [k, int(n)]
        args.append(3 * len(timings or {}))
        for stage, seconds in (timings or {}).items():
            args += [stage, repr(max(0.0, float(seconds))), latency_bucket(seconds)]
        self._finish_poll(keys=[keys.feed(url), keys.DUE, keys.lease(url), keys.STATS, keys.LATENCY], args=args)

    def release_lease(self, url: str, owner: str) -> None:
        """Let go of the feed's lease if ``owner`` still holds it (a poll that failed before ``finish_poll``)."""
        self._release(keys=[keys.lease(url)], args=[owner])

    def clear_leases(self) -> int:
        """Drop every feed lease; how many there were."""
        found = list(self.client.scan_iter(keys.LEASES))
        return int(self.client.delete(*found)) if found else 0
