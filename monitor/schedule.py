"""When to poll a feed next: its interval, the server's hints, error back-off. Pure functions."""

from __future__ import annotations

import email.utils
import random
import re
import time
from collections.abc import Callable, Mapping

_MAX_AGE = re.compile(r"(?:^|[,\s])(s-maxage|max-age)\s*=\s*\"?(\d+)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|[,\s])(no-store|no-cache)\b", re.IGNORECASE)
JITTER = 0.2  # back-off varies +-20% so failing feeds spread out


def next_poll(
    now: float,
    interval: float,
    *,
    errors: int = 0,
    retry_after: float | None = None,
    max_age: float | None = None,
    ttl: float | None = None,
    cap: float = 3600.0,
    rng: Callable[[], float] = random.random,
) -> float:
    """The unix time of the next poll.

    Healthy: ``interval``, stretched by the server's hints (Cache-Control/Expires ``max_age``, RSS
    ``ttl``), hints capped at ``cap``. Failing: ``interval * 2**errors`` with jitter, capped at ``cap``
    (or at ``interval`` when that is longer). Never sooner than ``retry_after``.
    """
    if errors <= 0:
        hints = [h for h in (max_age, ttl) if h is not None and h > 0]
        delay = max(interval, min(max(hints), cap)) if hints else interval
    else:
        ceiling = max(cap, interval)
        base = min(interval * 2.0 ** min(errors, 40), ceiling)
        delay = min(base * (1.0 + JITTER * (2.0 * rng() - 1.0)), ceiling)
    if retry_after is not None and retry_after > delay:
        delay = retry_after
    return now + delay


def cache_max_age(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the response stays fresh: Cache-Control s-maxage/max-age, else Expires - Date."""
    h = {k.lower(): v for k, v in headers.items()}
    control = h.get("cache-control", "")
    if _NO_CACHE.search(control):
        return None
    ages = {m.group(1).lower(): float(m.group(2)) for m in _MAX_AGE.finditer(control)}
    if "max-age" in ages:
        return ages["max-age"]
    if "s-maxage" in ages:
        return ages["s-maxage"]
    expires = _http_date(h.get("expires"))
    if expires is None:
        return None
    base = _http_date(h.get("date"))
    base = base if base is not None else (time.time() if now is None else now)
    return max(0.0, expires - base)


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return when.timestamp() if when.tzinfo is not None else None
