"""The HTTP endpoint (monitor/web/) under load and without a token, in-process against the real Redis.

Before (the standard library's server, in threads, on the poller's connection pool): 79 of 200
parallel /healthz got no answer in 20 s (a listen backlog of 5); 200 half-sent requests held 200
threads; completing them at once gave 100 x 503 and the poller lost Redis (MaxConnectionsError).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
import redis
from rq import Queue, Worker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from monitor.broker import connect
from monitor.settings import Settings, from_dict
from monitor.store import Store
from monitor.web import server as web
from monitor.web.app import READ_THREADS
from monitor.web.auth import Access, protect, requires

TOKEN = "t0ken-for-the-tests-8c1f"


def settings(host: str = "127.0.0.1", tokens: Sequence[str] = ()) -> Settings:
    return from_dict({"service": {"http_host": host, "http_port": 0, "api_tokens": list(tokens)},
                      "watches": [{"name": "w", "keywords": ["Kursk"]}]})


@contextlib.contextmanager
def endpoint(redis_url: str, cfg: Settings | None = None, routes: Sequence[BaseRoute] = ()) -> Iterator[int]:
    server = web.start(cfg or settings(), redis_url, extra=lambda: {"worker_processes": 1}, routes=routes)
    assert server is not None
    try:
        yield server.port
    finally:
        server.stop()


@pytest.fixture
def healthy(redis_client: redis.Redis) -> Iterator[None]:
    """A poller that beat and a registered worker, as under `claimwatch run`."""
    Store(redis_client).metrics.heartbeat("poller", "p-test")
    worker = Worker([Queue("claimwatch-entries", connection=redis_client)], connection=redis_client, name="w-test")
    worker.register_birth()
    yield
    worker.register_death()


async def _get(port: int, path: str, *, headers: str = "", timeout: float = 20.0) -> tuple[int | None, bytes]:
    """One request on its own connection: (status or None when unanswered in ``timeout``, body)."""
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: t\r\n{headers}Connection: close\r\n\r\n".encode())
            raw = await reader.read()
            writer.close()
    except (TimeoutError, OSError):
        return None, b""
    head, _, body = raw.partition(b"\r\n\r\n")
    return (int(head.split()[1]) if head.startswith(b"HTTP/1.1 ") else None), body


def get(port: int, path: str, token: str | None = None) -> tuple[int | None, bytes]:
    return asyncio.run(_get(port, path, headers=f"Authorization: Bearer {token}\r\n" if token else ""))


def test_200_parallel_healthz_are_all_answered(redis_url: str, healthy: None) -> None:
    async def burst(port: int) -> list[int | None]:
        return [s for s, _ in await asyncio.gather(*(_get(port, "/healthz") for _ in range(200)))]

    with endpoint(redis_url) as port:
        started = time.monotonic()
        statuses = asyncio.run(burst(port))
        took = time.monotonic() - started
    assert statuses.count(200) == 200, (statuses.count(None), statuses.count(503))
    assert took < 20, took
    print(f"200 parallel /healthz: {statuses.count(200)} x 200 in {took:.2f} s")


def _redis_clients(client: redis.Redis) -> int:
    return len(client.client_list())


def test_half_sent_requests_hold_no_thread_and_never_reach_the_pollers_pool(redis_url: str, healthy: None) -> None:
    poller = connect(redis_url)  # as the poller's own client
    poller.ping()
    with endpoint(redis_url) as port:
        assert get(port, "/status")[0] == 200  # the endpoint's pool has its first connection
        threads_before, clients_before = threading.active_count(), _redis_clients(poller)

        async def scenario() -> dict[str, Any]:
            conns = []
            for _ in range(200):  # a request line and a header, never the blank line that ends the head
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"GET /status HTTP/1.1\r\nHost: t\r\n")
                conns.append((reader, writer))
            await asyncio.sleep(0.5)
            out: dict[str, Any] = {"threads_held": threading.active_count() - threads_before}
            t = time.monotonic()
            out["healthz"] = (await _get(port, "/healthz", timeout=5))[0]
            out["healthz_s"] = time.monotonic() - t
            peak = [0]

            async def watch_clients() -> None:
                while True:
                    peak[0] = max(peak[0], await asyncio.to_thread(_redis_clients, poller) - clients_before)
                    await asyncio.sleep(0.02)

            watcher = asyncio.create_task(watch_clients())
            for _, writer in conns:  # all completed at once
                writer.write(b"Connection: close\r\n\r\n")
            answers = await asyncio.gather(*(asyncio.wait_for(r.read(), 30) for r, _ in conns))
            watcher.cancel()
            out["answered"] = [a.split(b" ", 2)[1] for a in answers].count(b"200")
            out["redis_clients_added"] = peak[0]
            out["poller_ping"] = await asyncio.to_thread(poller.ping)
            return out

        result = asyncio.run(scenario())
    print(f"200 half-sent requests: {result}")
    assert result["threads_held"] <= READ_THREADS, result  # a connection is no thread
    assert result["healthz"] == 200 and result["healthz_s"] < 2, result
    assert result["answered"] == 200, result
    assert result["redis_clients_added"] <= READ_THREADS, result  # the endpoint's own small pool
    assert result["poller_ping"] is True
    poller.close()


def test_a_request_head_that_never_ends_is_cut_off(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web, "HEAD_TIMEOUT", 1.0)

    async def half_sent(port: int) -> tuple[bytes, float]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /status HTTP/1.1\r\nHost: t\r\n")
        t = time.monotonic()
        data = await asyncio.wait_for(reader.read(), 10)
        return data, time.monotonic() - t

    with endpoint(redis_url) as port:
        data, waited = asyncio.run(half_sent(port))
    assert data == b"" and waited < 5, (data, waited)


def test_off_loopback_everything_but_healthz_needs_a_token(redis_url: str, healthy: None) -> None:
    with endpoint(redis_url, settings("0.0.0.0", [TOKEN])) as port:
        assert get(port, "/healthz")[0] == 200
        for path in ("/status", "/metrics", "/nope"):
            status, body = get(port, path)
            assert status == 401, (path, status)
            assert get(port, path, "x" * len(TOKEN))[0] == 401
            assert TOKEN.encode() not in body
        status, body = get(port, "/status", TOKEN)
        assert status == 200 and b'"feeds"' in body and TOKEN.encode() not in body
        assert get(port, "/metrics", TOKEN)[0] == 200
    with endpoint(redis_url, settings("0.0.0.0")) as port:  # no token configured: nothing but healthz
        assert get(port, "/status")[0] == 403 and get(port, "/healthz")[0] == 200
    with endpoint(redis_url, settings("127.0.0.1")) as port:  # loopback: reads are open
        assert get(port, "/status")[0] == 200


async def _ok(request: Request) -> Response:
    return JSONResponse({"ok": True})


def test_added_routes_write_needs_a_token_even_on_loopback(redis_url: str) -> None:
    sub = Route("/", _ok)
    routes = [Route("/api/v1/things", _ok), Route("/api/v1/do", requires(Access.WRITE)(_ok), methods=["GET"]),
              Mount("/api/v1/admin", protect(Mount("", routes=[sub]), Access.WRITE))]
    with endpoint(redis_url, settings("127.0.0.1", [TOKEN]), routes) as port:
        assert get(port, "/api/v1/things")[0] == 200  # a read, on loopback
        assert get(port, "/api/v1/do")[0] == 401 and get(port, "/api/v1/do", TOKEN)[0] == 200
        assert get(port, "/api/v1/admin/")[0] == 401 and get(port, "/api/v1/admin/", TOKEN)[0] == 200
    with endpoint(redis_url, settings("0.0.0.0", [TOKEN]), routes) as port:
        assert get(port, "/api/v1/things")[0] == 401 and get(port, "/api/v1/things", TOKEN)[0] == 200


def test_redis_gone_answers_503_not_a_traceback(redis_url: str) -> None:
    with endpoint(redis_url.replace("redis.sock", "nowhere.sock") if "sock" in redis_url
                  else "redis://127.0.0.1:9/0") as port:
        status, body = get(port, "/healthz")
    assert status == 503 and b"unreachable" in body and b"Traceback" not in body
