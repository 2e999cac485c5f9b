"""The Redis client every process uses, for the configured ``redis_url`` or the embedded server's."""

from __future__ import annotations

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry


def connect(url: str, *, timeout: float = 10.0) -> redis.Redis:
    """A client for ``url`` with health checks and retries on brief outages."""
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=5, base=0.1), 8),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
    )
