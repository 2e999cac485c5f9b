"""The supervisor of `claimwatch run`: its worker processes and the embedded Redis, started,
watched, restarted, stopped (README "Operations / reliability").

- a worker process that dies (kill -9, OOM, a crash) is started again, with back-off if it keeps
  dying; its RQ registration is removed and its job handed back to the queue at once
  (``monitor.broker.recover_jobs``), not when RQ's heartbeat expiry would notice;
- the embedded redis-server, should it die, is started again on the same ``data_dir`` (the
  append-only file brings the state back); every client reconnects by itself; should its
  ``data_dir`` be deleted under it, ``monitor.datadir`` writes it back;
- every ``SWEEP`` seconds, jobs of workers that died elsewhere (other machines) are recovered;
- worker processes that exit 2 (a configuration error, printed on their stderr) ``CONFIG_EXITS``
  times in a row stop `run` with exit code 2: restarting them would only repeat the error.

Each worker runs in its own session, so a terminal's Ctrl-C or a process-group SIGTERM reaches only
`run`, which then stops them in order.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import redis

from monitor.broker import (
    EmbeddedRedis,
    forget_workers,
    recover_jobs,
    release_scheduler_locks,
    worker_prefix,
)
from monitor.datadir import DataDirWatch
from monitor.parent_death import killed_with_parent
from monitor.queue import queues
from monitor.store import Store

log = logging.getLogger(__name__)
REDIS_URL_ENV = "CLAIMWATCH_REDIS_URL"  # set by `run` for its workers: the embedded server's URL
SWEEP = 10.0  # seconds between recoveries of jobs of workers that died elsewhere
CONFIG_EXITS = 3  # worker exits with code 2 (bad configuration) in a row after which `run` stops


class Supervisor:
    """The worker processes (and the embedded Redis): started, watched, restarted, stopped."""

    def __init__(self, n: int, worker_command: Sequence[str], configs: Sequence[Path], redis_url: str,
                 connection: redis.Redis, store: Store, embedded: EmbeddedRedis | None = None):
        self.n, self.redis_url, self.connection, self.store, self.embedded = n, redis_url, connection, store, embedded
        self.args = list(worker_command)
        for c in configs:
            self.args += ["--config", str(c)]
        self.workers: list[subprocess.Popen[bytes]] = []
        self.restarts = 0
        self._pending: list[str] = []  # worker name prefixes whose jobs still need recovering
        self._stop = threading.Event()
        self._stopping = False
        self._deaths: list[float] = []  # recent worker deaths (monotonic), for back-off
        self._config_exits = 0  # worker exits with code 2 in a row
        self.exit_code = 0  # `run`'s: 2 once workers keep failing on their configuration
        self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self.data_dir = DataDirWatch(embedded) if embedded is not None else None

    def start(self) -> Supervisor:
        self.workers = [self._spawn() for _ in range(self.n)]
        self._thread.start()
        return self

    def _spawn(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ, **{REDIS_URL_ENV: self.redis_url})
        return subprocess.Popen(self.args, env=env, start_new_session=True, preexec_fn=killed_with_parent)

    @property
    def alive(self) -> int:
        return sum(1 for w in self.workers if w.poll() is None)

    def status(self) -> dict[str, Any]:
        """What /healthz and /metrics add: worker processes, restarts, and ``problems`` only `run` sees."""
        out: dict[str, Any] = {"worker_processes": self.alive, "expected": self.n, "restarts": self.restarts}
        if self.data_dir is not None and self.data_dir.problem:
            out["problems"] = [self.data_dir.problem]
        return out

    # ------------------------------------------------------------------ watching

    def _watch(self) -> None:
        last_sweep = time.monotonic()
        while not self._stop.wait(0.5):
            try:
                self._check_redis()
                if self.data_dir is not None and not self._stopping:
                    self.data_dir.check()
                self._check_workers()
                if self._pending or time.monotonic() - last_sweep >= SWEEP:
                    self._recover()
                    last_sweep = time.monotonic()
            except redis.RedisError as e:
                log.warning("supervisor: Redis unreachable (%s); retrying", type(e).__name__)
            except Exception:  # never let the watcher die
                log.exception("supervisor: unexpected error")

    def _check_redis(self) -> None:
        e = self.embedded
        if e is None or self._stopping or e.proc is None or e.proc.poll() is None:
            return
        log.error("embedded redis-server exited (%s); starting it again on %s", e.proc.returncode, e.data_dir)
        e.start()
        with contextlib.suppress(redis.RedisError):
            self.store.metrics.count("redis_restarts")

    def _check_workers(self) -> None:
        for i, w in enumerate(self.workers):
            code = w.poll()
            if code is None or self._stopping or self.exit_code:
                continue
            now = time.monotonic()
            self._deaths = [t for t in self._deaths if now - t < 60] + [now]
            pause = min(30.0, 0.5 * 2 ** max(0, len(self._deaths) - 2))  # a crash loop backs off
            self._config_exits = self._config_exits + 1 if code == 2 else 0
            if self._config_exits >= CONFIG_EXITS:
                log.error("worker processes exited with a configuration error (exit code 2, printed above) %d times "
                          "in a row; stopping", self._config_exits)
                self.exit_code = 2
                os.kill(os.getpid(), signal.SIGTERM)  # `run`'s own stop: no new polls, the other workers finish
                return
            log.warning("worker process %d exited (%s); recovering its job and starting another%s", w.pid,
                        _exit_reason(code), f" in {pause:.0f} s" if pause >= 1 else "")
            self._pending.append(worker_prefix(w.pid))
            with contextlib.suppress(redis.RedisError):
                self._recover()
            if self._stop.wait(pause) or self._stopping:
                return
            self.workers[i] = self._spawn()
            self.restarts += 1
            with contextlib.suppress(redis.RedisError):
                self.store.metrics.count("worker_restarts")

    def _recover(self) -> None:
        dead = list(self._pending)
        if dead:
            forget_workers(self.connection, dead)
            release_scheduler_locks(self.connection, queues(self.connection), dead)
        recover_jobs(self.connection, queues(self.connection), dead=dead)
        self._pending = [p for p in self._pending if p not in dead]

    # ------------------------------------------------------------------ stopping

    def begin_stop(self) -> None:
        """SIGTERM every worker now: they finish their current job while the poller drains."""
        self._stopping = True
        for w in self.workers:
            if w.poll() is None:
                with contextlib.suppress(OSError):
                    w.send_signal(signal.SIGTERM)

    def stop(self, deadline: float) -> None:
        """Stop the workers (warm, until ``deadline``). The watcher thread lives on until ``close()``:
        the children it started (a restarted worker or Redis) die with it (PR_SET_PDEATHSIG)."""
        self.begin_stop()
        for w in self.workers:
            try:
                w.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("worker %d did not finish in time; killed (its job is recovered at the next start)",
                            w.pid)
                w.kill()
                w.wait()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        if self.data_dir is not None:
            self.data_dir.connection.close()


def _exit_reason(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"
