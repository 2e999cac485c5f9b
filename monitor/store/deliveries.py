"""Deliveries: each alert's status per sink, and the dead letters of those that failed for good.

At least once, never twice: a sink's status turns "sent" right after it accepted the alert, and a
retry (or another worker) sends only while it is not. A delivery that keeps failing is recorded
"failed: {error kind}" and goes to the dead-letter list that ``status`` shows and
``claimwatch alerts retry`` empties.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import redis

from monitor.store import keys
from monitor.store.values import as_str


class Deliveries:
    """``cw:delivery:*`` and ``cw:dead``."""

    def __init__(self, client: redis.Redis):
        self.client = client

    # ------------------------------------------------------------------ status per sink

    def status(self, alert_id: str, sink: str) -> str | None:
        """"sent", "failed: {kind}", or None (not tried yet, or cleared for a resend)."""
        raw = self.client.hget(keys.delivery(alert_id), sink)
        return None if raw is None else as_str(raw)

    def sent(self, alert_id: str, sink: str) -> bool:
        return self.status(alert_id, sink) == "sent"

    def set_status(self, alert_id: str, sink: str, status: str) -> None:
        self.client.hset(keys.delivery(alert_id), sink, status)

    def clear(self, alert_id: str, sink: str) -> None:
        """Forget a failed delivery's status (before it is sent again)."""
        self.client.hdel(keys.delivery(alert_id), sink)

    # ------------------------------------------------------------------ dead letters

    def dead_letter(self, item: Mapping[str, Any]) -> None:
        """Keep a delivery that failed for good (JSON: alert, sink, error, attempts, ...)."""
        self.client.rpush(keys.DEAD, json.dumps(dict(item), ensure_ascii=False))

    def dead_letters(self) -> list[dict[str, Any]]:
        """Every dead letter, oldest first."""
        return [json.loads(x) for x in self.client.lrange(keys.DEAD, 0, -1)]

    def take_dead_letters(self, sink: str | None = None, alert_id: str | None = None) -> list[dict[str, Any]]:
        """Remove and return the dead letters of ``sink`` / ``alert_id`` (every one when None). Each
        is removed exactly once (LREM), so two concurrent callers never both get the same letter."""
        out = []
        for raw in self.client.lrange(keys.DEAD, 0, -1):
            item = json.loads(raw)
            if sink is not None and item.get("sink") != sink:
                continue
            if alert_id is not None and (item.get("alert") or {}).get("id") != alert_id:
                continue
            if self.client.lrem(keys.DEAD, 1, raw):
                out.append(item)
        return out
