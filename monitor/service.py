"""Wiring: `claimwatch run` (everything on one machine) and `claimwatch poller` (the poller alone).

`run` starts the embedded Redis unless ``redis_url`` is set, N worker processes
(``worker_command`` from ``claimwatch.cli``) under a ``monitor.supervisor.Supervisor``, the HTTP
endpoint (``monitor.web``) and the poller. SIGTERM/SIGINT: stop polling, let workers finish their
current job (RQ warm shutdown), stop Redis last, exit 0 (all within ``service.stop_timeout``
seconds, 27 by default; 8 in Docker, whose ``docker stop`` kills after 10).

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
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import redis
from rq import Worker

from monitor.broker import (
    EmbeddedRedis,
    connect,
    forget_workers,
    recover_jobs,
    release_scheduler_locks,
    worker_prefix,
)
from monitor.digests import Flusher
from monitor.poller import Poller
from monitor.queue import enqueue_delivery, enqueue_entry, queues
from monitor.settings import Settings
from monitor.store import Store
from monitor.supervisor import REDIS_URL_ENV, Supervisor
from monitor.web import server as web
from monitor.web.extensions import extra_routes

log = logging.getLogger(__name__)
POLL_GRACE = 5.0  # seconds in-flight feed polls get after SIGTERM (at most half of stop_timeout)


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
    flusher = Flusher(settings, store, lambda d, sink: enqueue_delivery(alerts, d, sink), ident=ident,
                      corroboration=lambda watch, item: store.claims.repeats(watch, item.claim.text))
    return Poller(settings, store, lambda e: enqueue_entry(entries, e), ident=ident, digests=flusher)


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
