"""The users' feedback (``cw:feedback``): what they said, and whether a worker applied it yet.

The desk and the command line write a record here and enqueue a job (``monitor.queue``); a worker
applies it to the watch's knowledge (``workers.feedback``) and marks it applied, so it takes effect
for every worker (they read the knowledge from Redis before each judgement) and survives restarts.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import redis

from monitor.store import keys


class Feedback:
    """``cw:feedback`` and ``cw:feedback:log``."""

    def __init__(self, client: redis.Redis):
        self.client = client

    def add(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """Keep a new piece of feedback (``kind``, ``watch`` and what it is about); returns it with its id."""
        rec = {"id": secrets.token_hex(8), "status": "queued",
               "created": datetime.now(UTC).isoformat(timespec="seconds"), **item}
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(keys.FEEDBACK, rec["id"], json.dumps(rec, ensure_ascii=False))
        pipe.rpush(keys.FEEDBACK_LOG, rec["id"])
        pipe.execute()
        return rec

    def get(self, fid: str) -> dict[str, Any] | None:
        raw = self.client.hget(keys.FEEDBACK, fid)
        return json.loads(raw) if raw else None

    def mark(self, fid: str, status: str, **fields: Any) -> None:
        rec = self.get(fid)
        if rec is not None:
            rec.update(status=status, **fields)
            self.client.hset(keys.FEEDBACK, fid, json.dumps(rec, ensure_ascii=False))

    def recent(self, watch: str | None = None, count: int = 50) -> list[dict[str, Any]]:
        """The last ``count`` pieces of feedback (of ``watch``), newest first."""
        ids = self.client.lrange(keys.FEEDBACK_LOG, -max(count * 4, count), -1)[::-1]
        raws = self.client.hmget(keys.FEEDBACK, ids) if ids else []
        out = [json.loads(r) for r in raws if r]
        return [r for r in out if watch is None or r.get("watch") == watch][:count]
