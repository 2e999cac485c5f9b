"""Digests: the alerts a digest sink holds until its next period, and the digests formed from them.

Every step is one atomic script, so a process killed at any point (``kill -9``) loses nothing:

1. ``buffer`` (a worker, for each new alert and digest sink): the alert joins the sink's buffer for
   its watch, unless this sink already has a status for it (``cw:delivery:{id}``): a job re-run after
   a crash buffers nothing twice, and an alert once in a digest never joins another.
2. ``flush`` (a poller, at a period boundary): the first poller to see the boundary moves the buffer
   to a batch under the digest's id and records it as pending; every other poller finds the
   boundary handled and does nothing. Alerts buffered after the move wait for the next period.
3. ``lease`` / ``batch`` / ``done``: a poller leases a pending digest, reads its batch, enqueues its
   delivery (a deterministic job id), then drops the batch. A poller killed before ``done`` leaves the
   digest pending: the next sweep enqueues it again, which is a no-op for a job that exists.
"""

from __future__ import annotations

import json
from typing import Any

import redis

from monitor.store import keys
from monitor.store.values import as_str

# KEYS: the alert's delivery hash, the buffer, the claims count. ARGV: sink, alert id, alert JSON, claims.
BUFFER = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], 'digest')
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('INCRBY', KEYS[3], ARGV[4])
return 1
"""

# KEYS: period, buffer, claims, since, batch, pending. ARGV: boundary (unix s), min claims, digest id,
# sink, watch. Returns the digest id when this call formed a digest, else nil.
FLUSH = """
local last = redis.call('GET', KEYS[1])
if last and tonumber(last) >= tonumber(ARGV[1]) then return nil end
redis.call('SET', KEYS[1], ARGV[1])
if not last then return nil end
if tonumber(redis.call('GET', KEYS[3]) or '0') < tonumber(ARGV[2]) then return nil end
if redis.call('EXISTS', KEYS[2]) == 0 then return nil end
local since = redis.call('GET', KEYS[4])
redis.call('RENAME', KEYS[2], KEYS[5])
redis.call('DEL', KEYS[3])
redis.call('SET', KEYS[4], ARGV[1])
redis.call('HSET', KEYS[6], ARGV[3], cjson.encode({sink = ARGV[4], watch = ARGV[5], since = since or '',
                                                   ['until'] = ARGV[1]}))
return ARGV[3]
"""


class Digests:
    """``cw:digest:*`` and ``cw:digests:pending``."""

    def __init__(self, client: redis.Redis):
        self.client = client
        self._buffer = client.register_script(BUFFER)
        self._flush = client.register_script(FLUSH)

    def buffer(self, sink: str, alert: dict[str, Any]) -> bool:
        """Hold ``alert`` (its ``to_dict()``) for ``sink``'s next digest; False when this sink already had it."""
        state = [keys.digest_state(sink, alert["watch"], p) for p in ("buffer", "claims")]
        return bool(self._buffer(keys=[keys.delivery(alert["id"]), *state],
                                 args=[sink, alert["id"], json.dumps(alert, ensure_ascii=False),
                                       len(alert.get("claims") or ())]))

    def held(self, sink: str, watch: str) -> int:
        """Claims waiting in ``sink``'s buffer for ``watch``."""
        return int(self.client.get(keys.digest_state(sink, watch, "claims")) or 0)

    def waiting(self) -> dict[str, int]:
        """"{sink} {watch}" -> claims held for the next digest, for every sink and watch holding some."""
        out = {}
        for key in self.client.scan_iter(keys.digest_state("*", "*", "claims")):
            sink_and_watch = as_str(key).removeprefix(keys.PREFIX + "digest:").removesuffix(":claims")
            index, kind, watch = sink_and_watch.split(":", 2)
            out[f"{index}:{kind} {watch}"] = int(self.client.get(key) or 0)
        return out

    def flush(self, sink: str, watch: str, boundary: float, digest_id: str, min_claims: int = 1) -> str | None:
        """Close the period ending at ``boundary``: the buffer becomes the digest ``digest_id`` (pending)
        when it holds ``min_claims`` claims, else it waits. The first boundary a sink sees only starts its
        first period. Returns ``digest_id`` when this call formed it; None when nothing was formed or
        another poller handled this boundary."""
        state = [keys.digest_state(sink, watch, p) for p in ("period", "buffer", "claims", "since")]
        formed = self._flush(keys=[*state, keys.digest_batch(digest_id), keys.DIGESTS_PENDING],
                             args=[int(boundary), min_claims, digest_id, sink, watch])
        return None if formed is None else as_str(formed)

    def pending(self) -> dict[str, dict[str, str]]:
        """Digest id -> {sink, watch, since, until} of every digest formed and not yet enqueued."""
        return {as_str(k): json.loads(v) for k, v in self.client.hgetall(keys.DIGESTS_PENDING).items()}

    def lease(self, digest_id: str, owner: str, seconds: float = 60.0) -> bool:
        return bool(self.client.set(keys.digest_lease(digest_id), owner, nx=True, px=int(seconds * 1000)))

    def batch(self, digest_id: str) -> list[dict[str, Any]]:
        """The alerts of a pending digest."""
        return [json.loads(v) for v in self.client.hvals(keys.digest_batch(digest_id))]

    def done(self, digest_id: str) -> None:
        """The digest's delivery is enqueued: forget its batch and lease."""
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hdel(keys.DIGESTS_PENDING, digest_id)
            pipe.delete(keys.digest_batch(digest_id), keys.digest_lease(digest_id))
            pipe.execute()

    def clear_leases(self) -> int:
        """Drop every digest lease; how many there were."""
        found = list(self.client.scan_iter(keys.DIGEST_LEASES))
        return int(self.client.delete(*found)) if found else 0
