"""Digest sinks (``[[alerts]] mode = "digest"``): which they are, and the sweep that forms their digests.

A worker holds each new alert for every digest sink that takes its watch (``store.digests.buffer``,
from ``workers.jobs``). The poller's loop calls ``Flusher.sweep`` about once a second; at each
period boundary of a sink's cadence (``monitor.cadence``) the sweep closes the period (an atomic
script: of several pollers, exactly one forms the digest, the others find the boundary handled) and
enqueues the digest's delivery on the alerts queue, where a worker sends it as it sends an alert:
the sink's rate limit, retries with backoff, dead letters, ``claimwatch alerts retry``.

Why the poller: it is the one process that always runs (``claimwatch run`` starts it; a deployment
without a poller reads no feed and has nothing to digest) and its loop already keeps time for the
feeds. An RQ job scheduled per period would freeze each period's end at the time it was scheduled
(a config change would not move it) and could miss an alert buffered while that job was running;
a sweep closes whatever the buffer holds when the boundary passes, and the alerts buffered after it
simply wait for the next one.

Crash safety: a digest is formed atomically and stays pending until its delivery job exists; a
poller killed in between leaves it pending, and the next sweep (any poller's) enqueues it, with the
same job id. The delivery itself is at least once with a stable digest id, like an alert's.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.cadence import Cadence
from monitor.models import Alert, Digest, DigestItem, items_of
from monitor.settings import Settings
from monitor.store import Store, digest

log = logging.getLogger(__name__)
SWEEP_INTERVAL = 1.0  # seconds between two sweeps of one poller
LEASE = 60.0  # seconds a poller holds a formed digest while enqueueing it

Corroboration = Callable[[str, DigestItem], int | None]  # (watch, item) -> later articles that repeated it


@dataclass(frozen=True)
class DigestSink:
    name: str  # "{index}:{type}", as the workers name the sink
    watches: tuple[str, ...]  # the watches it takes
    cadence: Cadence
    min_claims: int = 1


def digest_sinks(settings: Settings) -> list[DigestSink]:
    """The enabled ``[[alerts]]`` entries in digest mode."""
    every = tuple(w.name for w in settings.watches)
    return [DigestSink(f"{i}:{a.type}", tuple(a.watches) if a.watches is not None else every, a.cadence,
                       a.min_claims)
            for i, a in enumerate(settings.alerts) if a.enabled and a.mode == "digest"]


def digest_id(sink: str, watch: str, boundary: float) -> str:
    """The digest of ``sink`` for ``watch`` that closes at ``boundary``: the same in every process."""
    return "digest-" + digest(f"{sink}|{watch}|{int(boundary)}")


def _iso(unix: str) -> str | None:
    return datetime.fromtimestamp(int(unix), UTC).isoformat(timespec="seconds") if unix else None


def build(digest_id: str, meta: dict[str, str], alerts: list[dict], *, timezone: str = "UTC",
          corroboration: Corroboration | None = None) -> Digest:
    """A pending digest's message from its batch. Pure but for ``corroboration``."""
    items = [i for a in alerts for i in items_of(Alert.from_dict(a))]
    if corroboration is not None:
        items = [dataclasses.replace(i, corroboration=corroboration(meta["watch"], i)) for i in items]
    return Digest(digest_id, meta["watch"], _iso(meta.get("since", "")), _iso(meta["until"]) or "",
                  tuple(sorted(items, key=lambda i: (i.when, i.alert_id))), timezone=timezone)


class Flusher:
    """Closes digest periods and enqueues the digests; ``enqueue(digest, sink_name)`` must be
    idempotent (``monitor.queue.enqueue_delivery``: a deterministic job id)."""

    def __init__(self, settings: Settings, store: Store, enqueue: Callable[[Digest, str], None], *, ident: str,
                 corroboration: Corroboration | None = None, interval: float = SWEEP_INTERVAL):
        self.sinks = {s.name: s for s in digest_sinks(settings)}
        self.store, self.enqueue, self.ident = store, enqueue, ident
        self.corroboration, self.interval = corroboration, interval
        self._last = float("-inf")

    def __call__(self, now: float) -> int:
        """A sweep unless one ran less than ``interval`` seconds ago (the poller calls this every turn)."""
        if not self.sinks or time.monotonic() - self._last < self.interval:
            return 0
        self._last = time.monotonic()
        return self.sweep(now)

    def sweep(self, now: float) -> int:
        """Close every period that ended by ``now``; enqueue every pending digest. How many were enqueued."""
        for sink in self.sinks.values():
            boundary = sink.cadence.boundary(now)
            for watch in sink.watches:
                formed = self.store.digests.flush(sink.name, watch, boundary, digest_id(sink.name, watch, boundary),
                                                  sink.min_claims)
                if formed:
                    log.info("digest %s formed for sink %s, watch %s", formed, sink.name, watch)
        enqueued = 0
        for did, meta in self.store.digests.pending().items():
            sink = self.sinks.get(meta["sink"])
            if sink is None or not self.store.digests.lease(did, self.ident, LEASE):
                continue  # another poller has it, or this config has no such sink: it waits for one that has
            message = build(did, meta, self.store.digests.batch(did), timezone=sink.cadence.timezone,
                            corroboration=self.corroboration)
            if message.items and not self.store.deliveries.sent(did, sink.name):
                self.enqueue(message, sink.name)
                enqueued += 1
                log.info("digest %s (%d claims, watch %s) enqueued for sink %s", did, len(message.items),
                         message.watch, sink.name)
            self.store.digests.done(did)
        return enqueued
