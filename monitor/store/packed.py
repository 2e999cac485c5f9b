"""Packed buckets: many small fixed-width binary records in a few hash fields.

A hash field or set member costs ~60 B of Redis overhead on top of its bytes; a seen marker is 8 B and
an LSH record 12 B. So records are grouped by a bucket (the first ``BUCKET_BITS`` bits of a digest)
and laid end to end in that bucket's field: a record then costs its own bytes, and a lookup is one
HGET of a ~1 KB value. With 1,024 buckets there are ~100 records per bucket at 100k articles
(seen markers: 2 per entry; LSH: 16 bands, each its own 1,024 buckets).

The scripts that read and write them (``seen``, ``dedup``) start with ``FIND``, a Lua function.
"""

from __future__ import annotations

BUCKET_BITS = 10
"""Buckets per packed hash (or per LSH band): 2^10 = 1,024."""


def bucket(d: bytes) -> bytes:
    """The bucket (2 bytes) of a record whose key starts with the digest ``d``: its first BUCKET_BITS bits."""
    return (int.from_bytes(d[:2], "big") >> (16 - BUCKET_BITS)).to_bytes(2, "big")


FIND = r"""
-- _at(v, rec, w[, init]): the offset (1-based) of the record rec in the packed value v whose records
-- are w bytes wide, at a record boundary (a match straddling two records does not count), or nil.
local function _at(v, rec, w, init)
  init = init or 1
  while true do
    local p = string.find(v, rec, init, true)
    if not p then return nil end
    if (p - 1) % w == 0 then return p end
    init = p + 1
  end
end
"""
