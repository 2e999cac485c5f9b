"""One total deadline per fetch, redirects included.

A per-read ``timeout`` does not stop a server that trickles a byte a second: every read returns in
time. The deadline does. Feeds get ``network.fetch_deadline`` (60 s), article pages the shorter
``network.page_deadline`` (15 s: a worker waiting on a page processes nothing else).

- sync (httpx): ``Deadline`` is set for the fetch in a context variable, and the guarded network
  stream (``transport``) clamps every connect, read and write to what is left of it, raising
  ``DeadlineExceeded`` once it has passed;
- async (aiohttp): ``asyncio.timeout`` around the whole fetch, with the same ``Deadline`` to say so.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import httpcore

from monitor.errors import TransientError

_CURRENT: ContextVar[Deadline | None] = ContextVar("claimwatch_fetch_deadline", default=None)


class DeadlineExceeded(httpcore.ReadTimeout):
    """The fetch's total deadline passed (a trickling server, a slow redirect chain)."""


class Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.end

    def error(self, where: str) -> TransientError:
        return TransientError(f"{where}: gave up after the {self.seconds:g} s deadline (server too slow)",
                              kind="deadline")


@contextmanager
def running(seconds: float) -> Iterator[Deadline]:
    """The deadline of the fetch running in this context (thread or task)."""
    d = Deadline(seconds)
    token = _CURRENT.set(d)
    try:
        yield d
    finally:
        _CURRENT.reset(token)


def remaining(timeout: float | None) -> float | None:
    """``timeout`` clamped to what is left of the current fetch's deadline (unchanged outside a fetch)."""
    d = _CURRENT.get()
    if d is None:
        return timeout
    left = d.end - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded("the fetch deadline passed")
    return left if timeout is None else min(timeout, left)
