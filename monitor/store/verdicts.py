"""What a watch made of each article, sentence by sentence (as ``claimwatch check --explain`` prints
it), kept 30 days as zlib JSON: the desk's article page reads it back. An article about something
else keeps its outcome and reason only (its sentences were never judged)."""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from typing import Any

import redis

from monitor.store import keys

VERDICTS_TTL = 30 * 86400  # seconds


class Verdicts:
    """``cw:w:{watch}:verdicts:{uh}``."""

    def __init__(self, client: redis.Redis):
        self.client = client

    def save(self, watch: str, url: str, record: Mapping[str, Any], ttl: int = VERDICTS_TTL) -> None:
        raw = zlib.compress(json.dumps(dict(record), ensure_ascii=False).encode("utf-8", "surrogatepass"), 6)
        self.client.set(keys.verdicts(watch, url), raw, ex=ttl)

    def get(self, watch: str, url: str) -> dict[str, Any] | None:
        raw = self.client.get(keys.verdicts(watch, url))
        return json.loads(zlib.decompress(raw)) if raw else None
