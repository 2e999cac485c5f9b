"""The service's HTTP application (Starlette): /healthz, /metrics (Prometheus), /status (JSON).

``create_app(settings, connection, extra=..., routes=...)`` makes it; ``routes`` are more Starlette
routes or ``Mount``s (the desk's pages and /api/v1, from ``monitor.web.extensions``). Every route
but ``/healthz`` needs a token off loopback (``monitor.web.auth``); mark a route that changes
something ``@requires(Access.WRITE)``.

Endpoints read Redis through ``Context.run``: the blocking call runs on the endpoint's own few
threads, over its own small connection pool, so a flood of requests queues here and never reaches
the poller's connections. A Redis error answers 503 with its kind, never a traceback.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import redis
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from monitor.settings import Settings
from monitor.status import StatsCollector, collect, health, redis_down
from monitor.store import Store
from monitor.web.auth import Auth, TokenGate

log = logging.getLogger(__name__)
T = TypeVar("T")
OPEN_PATHS = ("/healthz", "/login")  # answered without a token wherever the endpoint listens (/login: to sign in)
READ_THREADS = 4  # blocking Redis reads at once; also the size of the endpoint's connection pool


@dataclass
class Context:
    """What the endpoints read: the settings, the endpoint's own Redis client and store, and what only
    `claimwatch run` knows (``extra``: worker processes, restarts; ``problems``: data_dir gone...)."""

    settings: Settings
    store: Store
    connection: redis.Redis
    auth: Auth
    extra: Callable[[], dict[str, Any]] | None = None
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(READ_THREADS, thread_name_prefix="web-read"))

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` (blocking I/O) on the endpoint's read threads."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, functools.partial(fn, *args))

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.connection.close()


def context_of(request: Request) -> Context:
    return request.app.state.context


async def healthz(request: Request) -> Response:
    ctx = context_of(request)
    ok, checks = await ctx.run(health, ctx.store, ctx.connection, ctx.extra)
    return JSONResponse(checks, status_code=200 if ok else 503)


async def status(request: Request) -> Response:
    ctx = context_of(request)
    return JSONResponse(await ctx.run(collect, ctx.store, ctx.connection, ctx.settings))


async def metrics(request: Request) -> Response:
    ctx = context_of(request)
    body = await ctx.run(generate_latest, request.app.state.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


async def _redis_down(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, redis.RedisError)
    return JSONResponse(redis_down(exc), status_code=503)


def ops_routes() -> list[BaseRoute]:
    return [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/metrics", metrics, methods=["GET", "HEAD"]),
        Route("/status", status, methods=["GET", "HEAD"]),
    ]


def create_app(settings: Settings, connection: redis.Redis, *, extra: Callable[[], dict[str, Any]] | None = None,
               routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The app over ``connection`` (the endpoint's own client): the service's routes, then ``routes``
    (more routes or Mounts), behind the token gate. Endpoints find everything in
    ``context_of(request)``."""
    context = Context(settings, Store(connection), connection,
                      Auth.of(settings.service.api_tokens, settings.service.http_host), extra)
    app = Starlette(
        routes=[*ops_routes(), *routes],
        middleware=[Middleware(TokenGate, open_paths=OPEN_PATHS)],
        exception_handlers={redis.RedisError: _redis_down},
    )
    registry = CollectorRegistry()
    registry.register(StatsCollector(context.store, connection, extra))
    app.state.context = context
    app.state.auth = context.auth
    app.state.registry = registry
    return app
