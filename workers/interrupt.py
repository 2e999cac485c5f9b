"""Stopping a worker in the middle of a job, quietly, with the job back in its queue.

RQ's warm shutdown (the first SIGTERM/SIGINT) lets the current job finish: a worker waiting on a
page that trickles a byte a second would hold the shutdown for the whole page deadline. Its cold
shutdown (a second signal) raised ``SystemExit`` inside the job: a traceback in the log and a
failed job.

A job marks the stretches a stop may cut short, where nothing done so far needs undoing (the page
fetch), with ``interruptible()``. A stop signal arriving inside one raises ``Interrupted`` there and
then (``workers.worker.PreloadedWorker.request_stop``); elsewhere the job finishes as before. An
interrupted job, or one a cold shutdown ends, is put back at the head of its queue with one log
line, and the worker exits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

_depth = 0  # jobs run in the worker's main thread, where signal handlers run too


class Interrupted(BaseException):
    """The worker is stopping: the job ends here and goes back to its queue. A BaseException, so that
    no ``except Exception`` on the way (a library's, a stage's) takes it for a failure."""


@contextmanager
def interruptible() -> Iterator[None]:
    """A stretch of a job that a stopping worker may end at once (nothing in it needs undoing)."""
    global _depth
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1


def active() -> bool:
    """Is the running job inside an ``interruptible()`` stretch?"""
    return _depth > 0
