"""What response headers tell the caller, read in one place for everyone: ``Retry-After`` (the
poller's back-off, the page fetch's retry, a sink's re-delivery), cache lifetime (the poll
schedule), HTTP dates. Pure functions.
"""

from __future__ import annotations

import email.utils
import json
import math
import re
import time
from collections.abc import Iterable, Mapping

_DELAY = re.compile(r"^\d+(?:\.\d+)?$")  # RFC 9110 says digits; chat APIs send "0.64" too
_MAX_AGE = re.compile(r"(?:^|[,\s])(s-maxage|max-age)\s*=\s*\"?(\d+)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|[,\s])(no-store|no-cache)\b", re.IGNORECASE)


def http_date(value: str | None) -> float | None:
    """An HTTP date (``Wed, 21 Oct 2015 07:28:00 GMT``) as a unix time; None when absent or unreadable."""
    if not value or not value.strip():
        return None
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return when.timestamp() if when.tzinfo is not None else None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now (delay-seconds or an HTTP date; a past date is 0); None when
    absent or unreadable (signs, exponents, nan)."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if _DELAY.match(value):
        return float(value)
    when = http_date(value)
    if when is None:
        return None
    return max(0.0, when - (time.time() if now is None else now))


def body_retry_after(body: bytes) -> float | None:
    """A JSON error body's ``retry_after`` (Discord) or ``parameters.retry_after`` (Telegram), in seconds."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    value = data.get("retry_after")
    if value is None and isinstance(data.get("parameters"), dict):
        value = data["parameters"].get("retry_after")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return max(0.0, float(value))


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
    expires = http_date(h.get("expires"))
    if expires is None:
        return None
    base = http_date(h.get("date"))
    base = base if base is not None else (time.time() if now is None else now)
    return max(0.0, expires - base)


def merged(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-cased names; a repeated header's values joined with ", " (as httpx does)."""
    out: dict[str, str] = {}
    for k, v in headers:
        k = k.lower()
        out[k] = f"{out[k]}, {v}" if k in out else v
    return out
