"""Questions the tests ask of the store, through the operations the service itself uses: the store
keeps no reader that only tests would call."""

from __future__ import annotations

import math

from monitor.store import Store


def seen(store: Store, key: str) -> bool:
    """Was an entry seen under ``key``? Asked as a poller asks (``seen.mark``), then left as it was."""
    fresh = store.seen.mark([key])
    if fresh:
        store.seen.unmark([key])
    return not fresh


def due_within(store: Store, url: str, lo: float = -math.inf, hi: float = math.inf) -> bool:
    """Is the feed scheduled, for a time in [lo, hi]? Asked as a poller asks (``feeds.due``)."""
    return url in store.feeds.due(hi, limit=1_000_000) and url not in store.feeds.due(math.nextafter(lo, -math.inf),
                                                                                       limit=1_000_000)


def due_after(store: Store, url: str, t: float) -> bool:
    """Is the feed scheduled, for a time after ``t``?"""
    return due_within(store, url, math.nextafter(t, math.inf))
