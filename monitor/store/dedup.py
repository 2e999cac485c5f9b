"""Duplicates, per watch: who had a content first (exact copies) and the near-duplicate index.

``content_owner``: ``cw:w:{watch}:owner`` maps a content hash (8 bytes) to the short id of the first
text with it. ``index`` / ``candidates``: MinHash LSH (``workers.dedup`` makes the signatures and
bands; a band is "{b}:{16 hex digits}"), kept packed (``packed``) in ``cw:w:{watch}:lsh``: field =
band number (1 byte) + the bucket of the band's hash, value = 12-byte records (4 more bytes of the
band's hash, the text's short id). A text's signature is kept once, in its docs value (``docs``).
A lookup is one round trip: 0.28 / 0.30 ms p99 at 10k / 100k articles (benchmarks/memory.py).
"""

from __future__ import annotations

from collections.abc import Iterable

import redis

from monitor.store import docs, keys, packed
from monitor.store.hashing import digest_bytes

# Index a text. KEYS: the LSH hash, the docs hash. ARGV: short id (8 bytes), docs value (with the
# signature), then pairs (band bucket, 4-byte band key): each band adds the 12-byte record
# key .. short id to its bucket unless it is there.
INDEX = packed.FIND + r"""
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
for i = 3, #ARGV, 2 do
  local rec = ARGV[i + 1] .. ARGV[1]
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if not v then redis.call('HSET', KEYS[1], ARGV[i], rec)
  elseif not _at(v, rec, 12) then redis.call('HSET', KEYS[1], ARGV[i], v .. rec) end
end
return 1
"""

# The texts sharing a band with a signature, as their docs values. KEYS as INDEX; ARGV: pairs
# (band bucket, 4-byte band key).
CANDIDATES = packed.FIND + r"""
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

# Register a text's content hash. KEYS: the owner hash, the docs hash. ARGV: content hash (8 bytes),
# short id, docs value. Returns the owner's docs value when another text had this content first, else nil.
CONTENT_OWNER = r"""
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if not owner then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[3])
  return nil
end
if owner == ARGV[2] then return nil end
return redis.call('HGET', KEYS[2], owner)
"""


def _band_args(bands: Iterable[str]) -> list[bytes]:
    args: list[bytes] = []
    for band in bands:
        b, _, h = band.partition(":")
        d = bytes.fromhex(h)
        args += [bytes([int(b)]) + packed.bucket(d), d[2:6]]
    return args


def _hash_field(content_hash: str) -> bytes:
    """8 bytes of a content hash: its first 8 when it is hex (``workers.dedup.content_hash``), else its digest."""
    try:
        field = bytes.fromhex(content_hash)[:8]
    except ValueError:
        field = b""
    return field if len(field) == 8 else digest_bytes(content_hash, 8)


class Dedup:
    """``cw:w:{watch}:owner`` and ``cw:w:{watch}:lsh``, with the docs hash they name texts by."""

    def __init__(self, client: redis.Redis):
        self._index = client.register_script(INDEX)
        self._candidates = client.register_script(CANDIDATES)
        self._content_owner = client.register_script(CONTENT_OWNER)

    def content_owner(self, watch: str, content_hash: str, url: str) -> str | None:
        """Register a text's hash; return the id of the text that had it first, if another one did."""
        owner = self._content_owner(keys=[keys.owner(watch), keys.docs(watch)],
                                    args=[_hash_field(content_hash), docs.short_id(url), docs.value(url)])
        if owner is None:
            return None
        owner_id = docs.parse(owner)[0]
        return None if owner_id == url else owner_id

    def candidates(self, watch: str, bands: Iterable[str]) -> dict[str, bytes]:
        """The indexed texts sharing a band with ``bands``: text id -> its stored signature. One round trip."""
        values = self._candidates(keys=[keys.lsh(watch), keys.docs(watch)], args=_band_args(bands))
        out = {}
        for raw in values or ():
            text_id, sig = docs.parse(raw)
            if sig is not None:
                out[text_id] = sig
        return out

    def index(self, watch: str, bands: Iterable[str], text_id: str, signature: bytes) -> None:
        """Index a text (idempotent): its signature, and its short id in each band's bucket."""
        self._index(keys=[keys.lsh(watch), keys.docs(watch)],
                    args=[docs.short_id(text_id), docs.value(text_id, signature), *_band_args(bands)])
