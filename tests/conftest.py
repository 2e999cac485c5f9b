"""Shared fixtures: a real Redis server for integration and e2e tests (never a mock).

``REDIS_URL`` when set (each test gets a flushed database); otherwise an embedded redis-server that
this session starts under a temporary folder and stops at the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from monitor.broker import EmbeddedRedis, connect

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = connect(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def shared_dir() -> Path:
    """../shared (benchmark pages, peer feeds); tests that need it skip on a user's checkout."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present (a user's checkout); CI has it")
    return SHARED
