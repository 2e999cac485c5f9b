"""What each watch knows, in Redis: its known sentences, the seed files they came from, and the lock
that makes judge-and-register atomic per watch.

Workers keep an in-memory index of the list (``workers.knowledge``) and read only what was appended
since their last sync (``read(watch, start)``); each element is one ``KnownRecord`` in its binary form
(``known_record``). Sentences become known together with the alert they made, in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import redis
from redis.lock import Lock

from monitor.store import alerts, docs, keys, known_record
from monitor.store.known_record import KnownRecord
from monitor.store.values import as_str_dict

LOCK_POLL = 0.002
"""Seconds between a novelty-lock waiter's attempts. redis-py's default, 0.1 s, made a second worker
wait far longer than the few milliseconds the lock is held: two workers ran at 1.3x one."""


class KnownSentences:
    """``cw:w:{watch}:known``, ``:seeded`` and ``:lock``."""

    def __init__(self, client: redis.Redis):
        self.client = client

    def register(self, watch: str, records: Iterable[KnownRecord], alert: Mapping[str, Any] | None = None,
                 log_fields: Mapping[str, Any] | None = None) -> None:
        """In one transaction: the sentences become known and, if given, the alert is saved and logged
        (``alerts.write``). A crash leaves either all of it or none (then the article is judged again)."""
        pipe = self.client.pipeline(transaction=True)
        values, sources = [], {}
        for rec in records:
            values.append(known_record.encode(rec))
            sources[docs.short_id(rec.source)] = rec.source
        for short, source in sources.items():  # the records name their source by short id
            pipe.hsetnx(keys.docs(watch), short, docs.value(source))
        if values:
            pipe.rpush(keys.known(watch), *values)
        alerts.write(pipe, alert, log_fields)
        pipe.execute()

    def read(self, watch: str, start: int = 0) -> list[KnownRecord]:
        """The watch's known sentences from position ``start`` on, in the order they became known."""
        raws = self.client.lrange(keys.known(watch), start, -1)
        names = docs.names(self.client, watch, {known_record.source_id(raw) for raw in raws})
        return [known_record.decode(raw, names[known_record.source_id(raw)]) for raw in raws]

    def seeded(self, watch: str) -> dict[str, str]:
        """Seed file path -> content hash of the version added."""
        return as_str_dict(self.client.hgetall(keys.seeded(watch)))

    def mark_seeded(self, watch: str, path: str, content_hash: str) -> None:
        self.client.hset(keys.seeded(watch), path, content_hash)

    def add_profile(self, watch: str, stems: Iterable[str]) -> None:
        """Stems of terms topical for the watch (``monitor.profile``), for the poller's first pass."""
        stems = list(stems)
        if stems:
            self.client.sadd(keys.profile(watch), *stems)

    def profile(self, watch: str) -> set[str]:
        return {v.decode() if isinstance(v, bytes) else v for v in self.client.smembers(keys.profile(watch))}

    def lock(self, watch: str, timeout: float = 60.0) -> Lock:
        """A Redis lock (redis-py's) that makes judge-and-register atomic per watch; a waiter gives up
        after ``timeout`` seconds, a holder loses it after as long."""
        return self.client.lock(keys.lock(watch), timeout=timeout, blocking_timeout=timeout, sleep=LOCK_POLL)

    def seed_lock(self, watch: str, timeout: float) -> Lock:
        """A Redis lock under which one worker reads and encodes a watch's seed while the others wait."""
        return self.client.lock(keys.seed_lock(watch), timeout=timeout, blocking_timeout=timeout, sleep=0.2)

    def clear_locks(self) -> int:
        """Drop every watch's novelty lock; how many there were."""
        found = list(self.client.scan_iter(keys.LOCKS))
        return int(self.client.delete(*found)) if found else 0
