"""Fixtures the integration tests share (the Redis ones are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import redis

from monitor.store import Store


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


@pytest.fixture
def store(redis_client: redis.Redis) -> Store:
    return Store(redis_client)
