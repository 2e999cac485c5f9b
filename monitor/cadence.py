"""When a digest sink sends: every fixed duration, or at times of day.

``Cadence.parse(every=..., at=..., timezone=...)`` reads an ``[[alerts]]`` entry's schedule;
``boundary(now)`` is the latest period boundary at or before ``now`` (unix seconds). Every process
computes the same boundaries from the same config, so the pollers agree on which period a flush
closes (``monitor.digests``).

- ``every = "1h"`` (``"90s"``, ``"15m"``, ``"1h30m"``, ``"1d"``): boundaries are the multiples of the
  duration since the Unix epoch, so ``"1h"`` sends on the hour and ``"15m"`` at :00, :15, :30, :45 (UTC).
- ``at = "08:00"`` (or a list, ``["08:00", "18:30"]``): daily at those times in ``timezone``.
- ``at = "0 8 * * 1-5"``: a standard 5-field cron expression (minute hour day month weekday), read in
  ``timezone`` by croniter.

A bad schedule raises ``ScheduleError`` (a ``ValueError``) naming the key at fault and saying why in
one line; settings turns it into the config error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+)\s*([smhd])")
_TIME_OF_DAY = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
MIN_EVERY = 1.0  # seconds


class ScheduleError(ValueError):
    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


def duration(text: str) -> float:
    """``"1h30m"`` -> 5400.0; raises ValueError on anything else."""
    compact = text.strip().lower()
    parts = _DURATION.findall(compact)
    if not parts or _DURATION.sub("", compact).strip():
        raise ValueError(f"{text!r} is not a duration (like 90s, 15m, 1h, 1h30m, 1d)")
    seconds = float(sum(int(n) * _UNITS[u] for n, u in parts))
    if seconds < MIN_EVERY:
        raise ValueError(f"{text!r}: a digest period is at least 1 s")
    return seconds


def cron_of(at: str | Sequence[str]) -> str:
    """``"08:00"``, ``["08:00", "18:30"]`` or a 5-field cron expression -> one cron expression."""
    times = [at] if isinstance(at, str) else list(at)
    if not times:
        raise ValueError("no time given")
    if len(times) == 1 and not _TIME_OF_DAY.match(times[0].strip()):
        expr = " ".join(times[0].split())
        if len(expr.split(" ")) != 5 or not croniter.is_valid(expr):
            raise ValueError(f"{times[0]!r} is neither a time of day (HH:MM) nor a 5-field cron expression")
        return expr
    parsed = []
    for t in times:
        m = _TIME_OF_DAY.match(t.strip())
        if not m:
            raise ValueError(f"{t!r} is not a time of day (HH:MM)")
        parsed.append((int(m.group(1)), int(m.group(2))))
    minutes = {m for _h, m in parsed}
    if len(minutes) == 1:  # one cron line says it: "0 8,18 * * *"
        return f"{minutes.pop()} {','.join(str(h) for h in sorted({h for h, _m in parsed}))} * * *"
    return ";".join(f"{m} {h} * * *" for h, m in sorted(set(parsed)))  # several lines, see Cadence.boundary


@dataclass(frozen=True)
class Cadence:
    every: float | None = None  # seconds
    cron: str | None = None  # one cron expression, or several joined by ";"
    timezone: str = "UTC"

    @classmethod
    def parse(cls, *, every: str | None = None, at: str | Sequence[str] | None = None,
              timezone: str = "UTC") -> Cadence:
        if (every is None) == (at is None):
            raise ScheduleError("mode", "a digest needs either every (a duration) or at (a time of day or a cron "
                                "expression)" if every is None else "a digest takes every or at, not both")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ScheduleError("timezone", f"{timezone!r} is not an IANA time zone (like UTC, Europe/Berlin)"
                                ) from None
        try:
            if every is not None:
                return cls(every=duration(every), timezone=timezone)
            return cls(cron=cron_of(at), timezone=timezone)  # type: ignore[arg-type]
        except ValueError as e:
            raise ScheduleError("every" if every is not None else "at", str(e)) from None

    def boundary(self, now: float) -> float:
        """The latest period boundary at or before ``now`` (unix seconds)."""
        if self.every is not None:
            return (now // self.every) * self.every
        # croniter's get_prev from an exact fire time returns the one before: start a second later
        start = datetime.fromtimestamp(int(now // 1) + 1, ZoneInfo(self.timezone))
        return max(croniter(expr, start).get_prev(float) for expr in (self.cron or "").split(";"))
