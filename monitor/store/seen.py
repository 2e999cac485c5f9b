"""Entries seen, end to end: an entry is enqueued once, whichever poller meets it and under
whichever of its keys (its GUID in its feed, its canonical URL: the same article in two feeds is
one entry).

One packed hash (``packed``): each key is an 8-byte ``digest_bytes`` record in its bucket, ~10 B
per key (a set member was ~65 B). ``mark`` checks every key and marks them all in one script,
so two pollers cannot both take an entry.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis

from monitor.store import keys, packed
from monitor.store.hashing import digest_bytes

# Mark an entry seen under all its keys unless one of them is already there. KEYS: the packed hash.
# ARGV: pairs (bucket, 8-byte record). Returns 1 when none was there (all are now), else 0 (none added).
MARK = packed.FIND + r"""
for i = 1, #ARGV, 2 do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if v and _at(v, ARGV[i + 1], 8) then return 0 end
end
for i = 1, #ARGV, 2 do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if not v then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  elseif not _at(v, ARGV[i + 1], 8) then redis.call('HSET', KEYS[1], ARGV[i], v .. ARGV[i + 1]) end
end
return 1
"""

# Undo a mark. KEYS and ARGV as MARK.
UNMARK = packed.FIND + r"""
for i = 1, #ARGV, 2 do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  local p = v and _at(v, ARGV[i + 1], 8)
  if p then
    v = string.sub(v, 1, p - 1) .. string.sub(v, p + 8)
    if v == '' then redis.call('HDEL', KEYS[1], ARGV[i]) else redis.call('HSET', KEYS[1], ARGV[i], v) end
  end
end
return 1
"""


def _args(entry_keys: Iterable[str]) -> list[bytes]:
    args: list[bytes] = []
    for k in entry_keys:
        if k:
            rec = digest_bytes(k)
            args += [packed.bucket(rec), rec]
    return args


class Seen:
    """``cw:seen:packed``."""

    def __init__(self, client: redis.Redis):
        self._mark = client.register_script(MARK)
        self._unmark = client.register_script(UNMARK)

    def mark(self, entry_keys: Iterable[str]) -> bool:
        """True when none of an entry's keys (GUID, canonical URL, ...) was seen before; marks them all."""
        args = _args(entry_keys)
        return bool(args) and bool(self._mark(keys=[keys.SEEN], args=args))

    def unmark(self, entry_keys: Iterable[str]) -> None:
        """Undo ``mark`` (the entry could not be enqueued; the next poll must see it as new)."""
        args = _args(entry_keys)
        if args:
            self._unmark(keys=[keys.SEEN], args=args)
