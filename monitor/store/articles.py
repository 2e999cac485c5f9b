"""Articles: the small record of what became of each one, and the page fetched for an entry.

The record is what the pipeline reads back, nothing more: ``status`` (a re-run of a finished job is a
no-op), ``from_summary``, ``watch:{name}`` outcomes, ``duplicate_of``. Title, source and reasons are
in the log and the alert. All records share one hash, a field per article (8-byte url digest) holding
"name RS value" pairs joined by US: no key per article (a key alone costs 60-90 B).

The page cache keeps the article extracted from an entry's page for a day (zlib JSON: its text and
paragraphs repeat each other, ~4x smaller): a job re-run after a crash does not fetch the page again.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from typing import Any

import redis

from monitor.store import keys
from monitor.store.hashing import digest_bytes
from monitor.store.values import as_str

PAGE_TTL = 86400  # seconds a fetched page is kept

# Merge fields into an article record. KEYS: the articles hash. ARGV: the article's field, then pairs
# (name, value) with neither RS (\30) nor US (\31) in them.
MERGE = r"""
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


def _clean(v: str) -> str:
    return v.replace("\x1e", " ").replace("\x1f", " ")


class Articles:
    """``cw:articles`` and ``cw:page:*``."""

    def __init__(self, client: redis.Redis):
        self.client = client
        self._merge = client.register_script(MERGE)

    def save(self, url: str, record: Mapping[str, Any]) -> None:
        """Merge fields into the article's record (None is written as ""; RS and US become spaces)."""
        args: list[bytes | str] = [digest_bytes(url)]
        for k, v in record.items():
            args += [_clean(k), _clean("" if v is None else str(v))]
        if len(args) > 1:
            self._merge(keys=[keys.ARTICLES], args=args)

    def get(self, url: str) -> dict[str, str]:
        """The article's record with its ``url``; {} when it has none."""
        raw = self.client.hget(keys.ARTICLES, digest_bytes(url))
        if raw is None:
            return {}
        return dict(p.split("\x1e", 1) for p in as_str(raw).split("\x1f") if "\x1e" in p) | {"url": url}

    def save_page(self, url: str, article: Mapping[str, Any], ttl: int = PAGE_TTL) -> None:
        """The article extracted from the entry's page at ``url``, for ``ttl`` seconds."""
        raw = zlib.compress(json.dumps(dict(article), ensure_ascii=False).encode("utf-8", "surrogatepass"), 6)
        self.client.set(keys.page(url), raw, ex=ttl)

    def page(self, url: str) -> dict[str, Any] | None:
        """The article ``save_page`` kept for ``url``; None when none is (never fetched, or expired)."""
        raw = self.client.get(keys.page(url))
        return json.loads(zlib.decompress(raw)) if raw else None
