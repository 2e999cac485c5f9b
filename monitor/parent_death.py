"""Processes that die with their parent (Linux's PR_SET_PDEATHSIG), so nothing is left running.

The embedded redis-server gets SIGTERM (it flushes its append-only file); a worker gets SIGKILL
(nothing to flush: its jobs are recovered at the next start, ``monitor.broker.recovery``).
"""

from __future__ import annotations

import ctypes
import signal


def set_death_signal(sig: int) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent dies (Linux; elsewhere a no-op)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, int(sig))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def die_with_parent() -> None:  # runs in the child between fork and exec: Redis flushes its AOF on SIGTERM
    set_death_signal(signal.SIGTERM)


def killed_with_parent() -> None:  # workers: nothing to flush; their jobs are recovered at the next start
    set_death_signal(signal.SIGKILL)
