"""Fixtures the integration tests share (the Redis ones are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import redis

from monitor import http
from monitor.settings import NetworkSettings
from monitor.store import Store


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """The service's own sync client (guarded at connect time), with loopback allowed for local servers."""
    with http.make_client(NetworkSettings(allow_private_addresses=True)) as c:
        yield c


@pytest.fixture
def store(redis_client: redis.Redis) -> Store:
    return Store(redis_client)
