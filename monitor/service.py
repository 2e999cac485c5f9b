"""Wiring: `claimwatch run` (everything on one machine) and `claimwatch poller` (the poller alone).

`run` starts the embedded Redis unless ``redis_url`` is set, N worker processes
(``python -m monitor worker``, each in its own session so a terminal's Ctrl-C or a process-group
SIGTERM reaches only this process, which then stops them in order), the health endpoint and the
poller. SIGTERM/SIGINT: stop polling, let workers finish their current job (RQ warm shutdown), stop
Redis last, exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from monitor.broker import EmbeddedRedis, _die_with_parent, connect
from monitor.health import serve
from monitor.poller import Poller
from monitor.queue import enqueue_entry, queues
from monitor.settings import Settings
from monitor.store import Store

log = logging.getLogger(__name__)
REDIS_URL_ENV = "CLAIMWATCH_REDIS_URL"  # set by `run` for its workers: the embedded server's URL
STOP_GRACE = 25.0  # seconds workers get to finish their job after SIGTERM


def _ident(role: str) -> str:
    return f"{role}-{socket.gethostname()}-{os.getpid()}"


async def _poll_until_stopped(poller: Poller) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await poller.run(stop)
    log.info("poller stopped")


def run_poller(settings: Settings, redis_url: str) -> None:
    connection = connect(redis_url)
    store = Store(connection)
    entries = queues(connection)[1]
    poller = Poller(settings, store, lambda e: enqueue_entry(entries, e), ident=_ident("poller"))
    asyncio.run(_poll_until_stopped(poller))


def _start_workers(n: int, configs: Sequence[Path], redis_url: str) -> list[subprocess.Popen[bytes]]:
    args = [sys.executable, "-m", "monitor", "worker"]
    for c in configs:
        args += ["--config", str(c)]
    env = dict(os.environ, **{REDIS_URL_ENV: redis_url})
    return [subprocess.Popen(args, env=env, start_new_session=True, preexec_fn=_die_with_parent)
            for _ in range(n)]


def _stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for w in workers:
        if w.poll() is None:
            w.send_signal(signal.SIGTERM)
    for w in workers:
        try:
            w.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            log.warning("worker %d did not finish in %.0f s; killed (RQ re-queues its job)", w.pid, STOP_GRACE)
            w.kill()
            w.wait()


def run(settings: Settings, configs: Sequence[Path]) -> int:
    embedded = None
    redis_url = os.environ.get(REDIS_URL_ENV) or settings.service.redis_url
    if not redis_url:
        embedded = EmbeddedRedis(settings.service.data_dir).start()
        redis_url = embedded.url
    workers: list[subprocess.Popen[bytes]] = []
    server = None
    try:
        connection = connect(redis_url)
        store = Store(connection)
        n = settings.service.workers or os.cpu_count() or 1
        workers = _start_workers(n, configs, redis_url)
        log.info("started %d worker process(es)", n)
        if settings.service.http_port:
            server = serve(settings.service.http_host, settings.service.http_port, store, connection)
        entries = queues(connection)[1]
        poller = Poller(settings, store, lambda e: enqueue_entry(entries, e), ident=_ident("poller"))
        asyncio.run(_poll_until_stopped(poller))
    finally:
        with contextlib.suppress(Exception):
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the shutdown
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        _stop_workers(workers)
        if server is not None:
            server.shutdown()
        if embedded is not None:
            embedded.stop()
    log.info("claimwatch stopped")
    return 0
