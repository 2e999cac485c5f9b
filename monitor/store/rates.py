"""Rate limits of chat targets, shared by every worker: at most one send per interval to a target
(Slack and Mattermost 1 message/s, Telegram 1/s per chat, Teams 4/s, Discord one every 2 s), and
none at all while it has said 429 "retry after".

A target is named by its kind and a hash of its URL or chat (``workers.sinks.base.target_key``). Times are the
Redis server's clock (TIME), so workers on machines with skewed clocks agree.
"""

from __future__ import annotations

import redis

from monitor.store import keys

# Take a send slot. KEYS: next free slot (unix ms), blocked-until (unix ms). ARGV: interval ms between
# sends, "1" when the caller already holds a slot. Returns ms to wait: 0 = send now; else the caller
# holds the slot that many ms from now.
TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local block = tonumber(redis.call('GET', KEYS[2]) or '0')
if ARGV[2] == '1' and now >= block then return 0 end
local interval = tonumber(ARGV[1])
local slot = math.max(now, block, tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], slot + interval, 'PX', slot + interval - now + 60000)
return slot - now
"""

# A 429 told us to wait: no send to this target before now + ARGV[1] ms. KEYS: blocked-until.
BLOCK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untl = now + tonumber(ARGV[1])
if untl > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], untl, 'PX', tonumber(ARGV[1]) + 60000)
end
return untl
"""


class RateLimits:
    """``cw:rate:*``."""

    def __init__(self, client: redis.Redis):
        self._take = client.register_script(TAKE)
        self._block = client.register_script(BLOCK)

    def slot(self, target: str, interval: float, *, reserved: bool = False) -> float:
        """Seconds until this sender may send to ``target`` (0: now), at most one send per ``interval``
        seconds across every worker. A positive answer is a reservation: the caller comes back after
        that long with ``reserved=True`` and sends at once, unless the target has since said to wait
        (``block``), in which case it gets a new slot after the block."""
        wait = self._take(keys=[keys.rate(target), keys.rate_block(target)],
                          args=[max(0, int(interval * 1000)), "1" if reserved else "0"])
        return max(0, int(wait)) / 1000.0

    def block(self, target: str, seconds: float) -> None:
        """The target answered 429 with a wait: no one sends to it for ``seconds``."""
        if seconds > 0:
            self._block(keys=[keys.rate_block(target)], args=[int(seconds * 1000)])
