"""The Redis client every process uses, for the configured ``redis_url`` or the embedded server's."""

from __future__ import annotations

from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry


def connect(url: str, *, timeout: float = 10.0, pool_size: int | None = None, retries: int = 8) -> redis.Redis:
    """A client for ``url`` with health checks and retries on brief outages.

    ``pool_size``: at most this many connections, a caller waiting up to ``timeout`` for a free one
    (the HTTP endpoint's own small pool: a flood of requests waits, and never takes the poller's)."""
    options: dict[str, Any] = dict(
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=5, base=0.1), retries),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
    )
    if pool_size is None:
        return redis.Redis.from_url(url, **options)
    pool = redis.BlockingConnectionPool.from_url(url, max_connections=pool_size, timeout=timeout, **options)
    return redis.Redis.from_pool(pool)
