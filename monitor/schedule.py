"""When to poll a feed next: its interval, the server's hints, error back-off. A pure function.

The hints themselves (Cache-Control/Expires lifetime, ``Retry-After``) are read from the response
by ``monitor.http.headers``, the one place that reads them for the poller, the workers and the sinks.
"""

from __future__ import annotations

import random
from collections.abc import Callable

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
