"""The HTTP endpoint's server: uvicorn (h11) on its own event loop in a thread of `claimwatch run`.

Limits, so that no client can hold the endpoint (README "Operations"):

- a listen backlog of ``BACKLOG`` (the kernel caps it at ``net.core.somaxconn``): a burst of
  connections waits in the kernel instead of being refused;
- a connection is a few KB on the event loop, never a thread: requests that are never finished
  hold no thread, and one whose head (request line and headers) has not arrived within
  ``HEAD_TIMEOUT`` seconds is closed (uvicorn has a keep-alive timeout, not this one);
- a request head is at most ``MAX_HEAD_BYTES``; at most ``LIMIT_CONCURRENCY`` connections and
  requests at once (more are answered 503 at once); an idle keep-alive connection lives
  ``KEEP_ALIVE`` seconds;
- the endpoints read Redis on ``app.READ_THREADS`` threads over a pool of as many connections of its
  own (``monitor.broker.connect(pool_size=...)``), so a flood queues here and the poller keeps its
  connections;
- stopping: no new connections, in-flight requests get ``GRACE`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import h11
import uvicorn
from starlette.routing import BaseRoute
from uvicorn.protocols.http.h11_impl import H11Protocol

from monitor.broker import connect
from monitor.settings import Settings
from monitor.web.app import READ_THREADS, Context, create_app

log = logging.getLogger(__name__)
BACKLOG = 2048
HEAD_TIMEOUT = 10.0
MAX_HEAD_BYTES = 16 * 1024
LIMIT_CONCURRENCY = 1000
KEEP_ALIVE = 5
GRACE = 3
REDIS_TIMEOUT = 5.0  # seconds a request waits for Redis (and for a free connection of the pool)
REDIS_RETRIES = 1  # /healthz must say "Redis is down" within seconds, not retry for half a minute


class _Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request's head: a client that opens a connection
    and sends part of a request (or nothing) is cut off after ``HEAD_TIMEOUT`` seconds."""

    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()  # the next request on this keep-alive connection has its own deadline

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
        self._head_deadline = self.loop.call_later(HEAD_TIMEOUT, self._head_overdue)

    def _head_overdue(self) -> None:
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


class WebServer:
    """A running endpoint; ``stop()`` ends it."""

    def __init__(self, server: uvicorn.Server, sock: socket.socket, context: Context):
        self.server, self.sock, self.context = server, sock, context
        self.port: int = sock.getsockname()[1]
        self.thread = threading.Thread(target=self._run, name="http", daemon=True)

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        except Exception:  # the service goes on without its endpoint; /healthz cannot say so, the log does
            log.exception("HTTP endpoint stopped")

    def begin_stop(self) -> None:
        """No new connections from now on; requests in flight get ``GRACE`` seconds."""
        self.server.should_exit = True

    def stop(self, timeout: float = GRACE + 2.0) -> None:
        self.begin_stop()
        self.thread.join(timeout)
        with contextlib.suppress(Exception):
            self.context.close()


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                                         flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def start(settings: Settings, redis_url: str, *, extra: Callable[[], dict[str, Any]] | None = None,
          routes: Sequence[BaseRoute] = (), started_within: float = 10.0) -> WebServer | None:
    """Serve the endpoint on ``service.http_host:http_port`` (port 0: any free one); None, with a
    warning, when the address cannot be had (the service runs on without it)."""
    host, port = settings.service.http_host, settings.service.http_port
    try:
        sock = _bind(host, port)
    except OSError as e:
        log.warning("HTTP endpoint not started: %s:%d: %s", host, port, e.strerror or e)
        return None
    connection = connect(redis_url, timeout=REDIS_TIMEOUT, pool_size=READ_THREADS, retries=REDIS_RETRIES)
    app = create_app(settings, connection, extra=extra, routes=routes)
    config = uvicorn.Config(
        app, host=host, port=port, http=_Protocol, lifespan="off", log_config=None, access_log=False,
        server_header=False, backlog=BACKLOG, limit_concurrency=LIMIT_CONCURRENCY, timeout_keep_alive=KEEP_ALIVE,
        timeout_graceful_shutdown=GRACE, h11_max_incomplete_event_size=MAX_HEAD_BYTES)
    web = WebServer(uvicorn.Server(config), sock, app.state.context)
    web.thread.start()
    deadline = time.monotonic() + started_within
    while not web.server.started and web.thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    auth = app.state.auth
    if not auth.loopback and not auth.tokens:
        log.warning("HTTP endpoint on %s, beyond loopback, and service.api_tokens is empty: only /healthz answers",
                    host)
    log.info("HTTP endpoint on http://%s:%d/ (healthz, metrics, status%s)", host, web.port,
             "" if auth.loopback else "; a token for all but healthz")
    return web
