"""Alerts: each one saved as JSON for 30 days (deliveries and resends are rebuilt from it) and logged
in a stream that ``status`` reads (the last ~10,000).

They are written only with the sentences that made them new, in one transaction
(``known.KnownSentences.register`` calls ``write``): a crash leaves both or neither.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import redis

from monitor.store import keys
from monitor.store.values import as_str_dict

ALERT_TTL = 30 * 86400  # seconds an alert is kept
LOG_LENGTH = 10_000  # alerts the log keeps (approximately: trimmed by whole stream nodes)


def write(pipe: redis.client.Pipeline, alert: Mapping[str, Any] | None, log_fields: Mapping[str, Any] | None) -> None:
    """Queue on ``pipe``: save ``alert`` (a dict with an "id") and log ``log_fields`` (values that are
    not strings as JSON), either when not None."""
    if alert is not None:
        pipe.set(keys.alert(alert["id"]), json.dumps(dict(alert), ensure_ascii=False), ex=ALERT_TTL)
    if log_fields is not None:
        fields = {k: (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)) for k, v in log_fields.items()}
        pipe.xadd(keys.ALERTS, fields, maxlen=LOG_LENGTH, approximate=True)


class Alerts:
    """``cw:alert:*`` and ``cw:alerts``."""

    def __init__(self, client: redis.Redis):
        self.client = client

    def saved(self, alert_id: str) -> dict[str, Any] | None:
        """The alert saved under ``alert_id``; None when there is none (or it expired)."""
        raw = self.client.get(keys.alert(alert_id))
        return json.loads(raw) if raw else None

    def recent(self, count: int = 10) -> list[dict[str, str]]:
        """The last ``count`` alerts of the log, newest first."""
        return [as_str_dict(fields) for _id, fields in self.client.xrevrange(keys.ALERTS, count=count)]
