"""Wiring: `claimwatch run` (everything on one machine) and `claimwatch poller` (the poller alone).

`run` starts the embedded Redis unless ``redis_url`` is set, N worker processes
(``worker_command`` from ``claimwatch.cli``, each in its own session so a terminal's Ctrl-C or a process-group
SIGTERM reaches only this process, which then stops them in order), the health endpoint and the
poller. SIGTERM/SIGINT: stop polling, let workers finish their current job (RQ warm shutdown), stop
Redis last, exit 0 (all within ``service.stop_timeout`` seconds, 27 by default; 8 in Docker, whose
``docker stop`` kills after 10).

A supervisor thread keeps the pieces alive (README "Operations / reliability"):

- a worker process that dies (kill -9, OOM, a crash) is started again, with back-off if it keeps
  dying; its RQ registration is removed and its job handed back to the queue at once
  (``monitor.broker.recover_jobs``), not when RQ's heartbeat expiry would notice;
- the embedded redis-server, should it die, is started again on the same ``data_dir`` (the
  append-only file brings the state back); every client reconnects by itself;
- every ``SWEEP`` seconds, jobs of workers that died elsewhere (other machines) are recovered;
- worker processes that exit 2 (a configuration error, printed on their stderr) ``CONFIG_EXITS``
  times in a row stop `run` with exit code 2: restarting them would only repeat the error.

Starting on its own embedded Redis (nothing else can be connected to it), `run` first recovers
everything the previous run left in flight: its workers' registrations, their started jobs, the
poller's feed leases. So a `kill -9` of the whole service loses nothing, and a restart neither
fetches again nor alerts again what was done (entries are marked seen, alerts have stable ids).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import redis
from rq import Worker

from monitor.broker import (
    EmbeddedRedis,
    _killed_with_parent,
    connect,
    forget_workers,
    recover_jobs,
    release_scheduler_locks,
    worker_prefix,
)
from monitor.datadir import DataDirWatch
from monitor.digests import Flusher
from monitor.poller import Poller
from monitor.queue import enqueue_delivery, enqueue_entry, queues
from monitor.settings import Settings
from monitor.store import Store
from monitor.web import server as web
from monitor.web.extensions import extra_routes

log = logging.getLogger(__name__)
REDIS_URL_ENV = "CLAIMWATCH_REDIS_URL"  # set by `run` for its workers: the embedded server's URL
POLL_GRACE = 5.0  # seconds in-flight feed polls get after SIGTERM (at most half of stop_timeout)
SWEEP = 10.0  # seconds between recoveries of jobs of workers that died elsewhere
CONFIG_EXITS = 3  # worker exits with code 2 (bad configuration) in a row after which `run` stops


def _ident(role: str) -> str:
    return f"{role}-{socket.gethostname()}-{os.getpid()}"


async def _poll_until_stopped(poller: Poller, budget: float, on_stop: Callable[[], None] | None = None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def stopping() -> None:
        if not stop.is_set():
            log.info("stopping: no new polls; in-flight work gets %.0f s", budget)
            stop.set()
            if on_stop is not None:
                on_stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping)
    await poller.run(stop, grace=min(POLL_GRACE, budget / 2))
    log.info("poller stopped")


def run_poller(settings: Settings, redis_url: str) -> None:
    connection = connect(redis_url)
    store = Store(connection)
    asyncio.run(_poll_until_stopped(make_poller(settings, store, connection), settings.service.stop_timeout))


def make_poller(settings: Settings, store: Store, connection: redis.Redis) -> Poller:
    """The poller, enqueueing entries, and closing digest periods as its loop turns (``monitor.digests``)."""
    alerts, entries = queues(connection)
    ident = _ident("poller")
    flusher = Flusher(settings, store, lambda d, sink: enqueue_delivery(alerts, d, sink), ident=ident)
    return Poller(settings, store, lambda e: enqueue_entry(entries, e), ident=ident, digests=flusher)


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
        self.data_dir = DataDirWatch(embedded, connection) if embedded is not None else None

    def start(self) -> Supervisor:
        self.workers = [self._spawn() for _ in range(self.n)]
        self._thread.start()
        return self

    def _spawn(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ, **{REDIS_URL_ENV: self.redis_url})
        return subprocess.Popen(self.args, env=env, start_new_session=True, preexec_fn=_killed_with_parent)

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


def _exit_reason(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def recover_at_start(connection: redis.Redis, store: Store) -> None:
    """A service starting on its own Redis: whatever a previous run had in flight is orphaned."""
    dead = forget_workers(connection)
    release_scheduler_locks(connection, queues(connection))
    recovered = recover_jobs(connection, queues(connection), everything=True)
    leases = store.clear_leases()
    if dead or recovered or leases:
        log.warning("recovered from an unclean stop: %d worker registration(s) removed, %d job(s) re-queued, "
                    "%d lease(s) and lock(s) released", len(dead), len(recovered), leases)


WORKERS_READY_WITHIN = 180.0  # seconds; workers load the language data and models before they register


def _wait_for_workers(connection: redis.Redis, pids: list[int], timeout: float) -> bool:
    """Poll only once the workers can take the entries (they register with RQ when loaded), so the
    first articles are not left waiting on a model load. False if SIGTERM/SIGINT came meanwhile."""
    prefixes = [worker_prefix(pid) for pid in pids]
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        deadline = time.monotonic() + timeout
        while not stop.is_set() and time.monotonic() < deadline:
            names = [w.name for w in Worker.all(connection=connection)]
            if all(any(name.startswith(p) for name in names) for p in prefixes):
                log.info("%d worker(s) ready; polling", len(pids))
                return True
            stop.wait(0.2)
        if not stop.is_set():
            log.warning("workers not all ready after %.0f s; polling anyway", timeout)
        return not stop.is_set()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run(settings: Settings, configs: Sequence[Path], worker_command: Sequence[str]) -> int:
    embedded = None
    redis_url = os.environ.get(REDIS_URL_ENV) or settings.service.redis_url
    if not redis_url:
        embedded = EmbeddedRedis(settings.service.data_dir).start()
        redis_url = embedded.url
    supervisor: Supervisor | None = None
    server = None
    budget = settings.service.stop_timeout
    deadline = [float("inf")]
    try:
        connection = connect(redis_url)
        store = Store(connection)
        if embedded is not None:
            recover_at_start(connection, store)
        n = settings.service.workers or os.cpu_count() or 1
        supervisor = Supervisor(n, worker_command, configs, redis_url, connection, store, embedded).start()
        log.info("started %d worker process(es)", n)
        if not _wait_for_workers(connection, [w.pid for w in supervisor.workers], WORKERS_READY_WITHIN):
            return supervisor.exit_code  # asked to stop while the workers were loading
        if settings.service.http_port:
            server = web.start(settings, redis_url, extra=supervisor.status, routes=extra_routes())
        poller = make_poller(settings, store, connection)

        def on_stop() -> None:
            deadline[0] = time.monotonic() + budget
            if supervisor is not None:
                supervisor.begin_stop()
            if server is not None:
                server.begin_stop()

        asyncio.run(_poll_until_stopped(poller, budget, on_stop))
    finally:
        with contextlib.suppress(Exception):
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the shutdown
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        if deadline[0] == float("inf"):
            deadline[0] = time.monotonic() + budget
        if supervisor is not None:
            supervisor.stop(deadline[0])
        if server is not None:
            server.stop(timeout=max(0.5, deadline[0] - time.monotonic()))
        if embedded is not None:
            embedded.stop()
        if supervisor is not None:
            supervisor.close()
    log.info("claimwatch stopped")
    return supervisor.exit_code if supervisor is not None else 0
