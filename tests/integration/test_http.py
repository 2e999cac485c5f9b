"""monitor.http against real local HTTP servers (loopback only)."""

from __future__ import annotations

import gzip
import socket
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

import brotli
import httpx
import pytest
from localserver import QuietHandler, both, reply, serving

from monitor import http
from monitor.errors import ForbiddenAddress, Gone, PermanentError, TooLarge, TransientError
from monitor.settings import NetworkSettings

LOCAL = NetworkSettings(allow_private_addresses=True, timeout=2.0, max_redirects=3)
Reply = tuple[int, dict[str, str], bytes]


@contextmanager
def serve(routes: dict[str, Reply | Callable[[BaseHTTPRequestHandler], Reply]],
          host: str = "127.0.0.1") -> Iterator[tuple[str, list]]:
    """A threaded HTTP server on ``host`` (loopback); yields its base URL and the list of requests it got."""
    seen: list[tuple[str, dict[str, str]]] = []

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)  # absolute-form when we act as a proxy
            key = parts.path + (f"?{parts.query}" if parts.query else "")
            seen.append((self.path, dict(self.headers.items())))
            route = routes.get(key) or routes.get(parts.path) or (404, {}, b"no such route")
            reply(self, *(route(self) if callable(route) else route))

    with serving(Handler, host=host) as base:
        yield base, seen


def test_plain_gzip_and_brotli_bodies() -> None:
    data = "<rss>Белгород</rss>".encode() * 100
    routes: dict[str, Any] = {
        "/plain": (200, {"Content-Type": "application/rss+xml", "ETag": '"v1"'}, data),
        "/gz": (200, {"Content-Encoding": "gzip"}, gzip.compress(data)),
        "/br": (200, {"Content-Encoding": "br"}, brotli.compress(data)),
    }
    with serve(routes) as (base, seen):
        for path in routes:
            for r in both(LOCAL, base + path, max_bytes=len(data)):
                assert isinstance(r, http.Response), r
                assert (r.status, r.body, r.url) == (200, data, base + path)
        r = both(LOCAL, base + "/plain", max_bytes=10**6)[0]
        assert isinstance(r, http.Response) and r.headers["etag"] == '"v1"'
        assert r.headers["content-type"] == "application/rss+xml"
    sent = seen[0][1]
    assert sent["User-Agent"] == LOCAL.user_agent and "br" in sent["Accept-Encoding"]


def test_gzip_bomb_is_cut_off_without_inflating() -> None:
    bomb = gzip.compress(b"\0" * 30_000_000, compresslevel=9)  # ~30 KB on the wire, 30 MB inflated
    with serve({"/bomb": (200, {"Content-Encoding": "gzip", "Content-Type": "application/xml"}, bomb)}) as (base, _):
        tracemalloc.start()
        try:
            results = both(LOCAL, base + "/bomb", max_bytes=200_000)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert all(isinstance(r, TooLarge) for r in results), results
    assert peak < 3_000_000, peak  # never anywhere near the 30 MB


def test_content_length_over_cap_refused_early() -> None:
    with serve({"/big": (200, {}, b"x" * 50_000)}) as (base, _):
        for r in both(LOCAL, base + "/big", max_bytes=10_000):
            assert isinstance(r, TooLarge) and "Content-Length" in str(r)


def test_conditional_get_304() -> None:
    def feed(h: BaseHTTPRequestHandler) -> Reply:
        if h.headers.get("If-None-Match") == '"v1"':
            return 304, {"ETag": '"v1"'}, b""
        return 200, {"ETag": '"v1"'}, b"<rss/>"

    with serve({"/feed": feed}) as (base, _):
        conditional = {"If-None-Match": '"v1"', "If-Modified-Since": ""}
        for r in both(LOCAL, base + "/feed", max_bytes=1000, headers=conditional):
            assert isinstance(r, http.Response) and (r.status, r.body) == (304, b"")


def test_redirects_followed_loops_and_chains_refused() -> None:
    routes: dict[str, Reply] = {
        "/old": (301, {"Location": "/mid?x=1"}, b""), "/mid": (302, {"Location": "/new#frag"}, b""),
        "/new": (200, {}, b"here"),
        "/a": (302, {"Location": "/b"}, b""), "/b": (307, {"Location": "/a"}, b""),
        **{f"/r{i}": (302, {"Location": f"/r{i + 1}"}, b"") for i in range(10)},
        "/nowhere": (302, {}, b""),
    }
    with serve(routes) as (base, _):
        for r in both(LOCAL, base + "/old", max_bytes=100):
            assert isinstance(r, http.Response) and (r.url, r.body) == (base + "/new", b"here")
        for r in both(LOCAL, base + "/a", max_bytes=100):
            assert isinstance(r, PermanentError) and r.kind == "redirect_loop"
        for r in both(LOCAL, base + "/r0", max_bytes=100):
            assert isinstance(r, PermanentError) and r.kind == "too_many_redirects"
        for r in both(LOCAL, base + "/r7", max_bytes=100):  # exactly max_redirects (3) hops: followed
            assert isinstance(r, Gone) and "/r10" in str(r)
        for r in both(LOCAL, base + "/nowhere", max_bytes=100):
            assert isinstance(r, PermanentError) and r.kind == "http_3xx"


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """public.test -> a public address, start.test -> 127.0.0.2, internal.test -> a private one; others as usual."""
    real = socket.getaddrinfo
    answers = {"public.test": "93.184.216.34", "start.test": "127.0.0.2", "internal.test": "10.1.2.3"}

    def fake(host: Any, port: Any, *args: Any, **kw: Any) -> Any:
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port or 80))]
        return real(host, port, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


TARGETS = ["http://internal.test/admin", "http://10.0.0.7/", "http://169.254.169.254/latest", "http://127.0.0.1:1/",
           "http://[::1]/", "http://[2002:a9fe:a9fe::]/", "file:///etc/passwd"]


@pytest.mark.parametrize("target", TARGETS)
def test_redirect_to_a_forbidden_address_is_refused(fake_dns: None, target: str) -> None:
    # The local server plays a proxy: "public.test" passes the guard (public address), the request
    # reaches the server, whose redirect must be refused before any request goes to the target.
    # (Any client: the sync fetch checks every hop's URL before asking.)
    strict = NetworkSettings(timeout=2.0)
    routes: dict[str, Reply] = {"/start": (302, {"Location": target}, b"")}
    with serve(routes) as (base, seen), httpx.Client(proxy=base, follow_redirects=False, timeout=2.0) as c, \
            pytest.raises(ForbiddenAddress):
        http.fetch(c, "http://public.test/start?token=SECRET", strict, max_bytes=100)
    assert [p for p, _ in seen] == ["http://public.test/start?token=SECRET"]  # the target never asked


@pytest.mark.parametrize("target", TARGETS)
def test_our_clients_refuse_a_redirect_to_a_forbidden_address(fake_dns: None, target: str) -> None:
    # Both of our clients, the server on 127.0.0.2 (the only address allowed): the first hop is
    # fetched, the redirect refused before anything is sent to its target.
    net = NetworkSettings(timeout=2.0, allow_networks=["127.0.0.2/32"])
    routes: dict[str, Reply] = {"/start": (302, {"Location": target}, b"")}
    with serve(routes, host="127.0.0.2") as (base, seen):
        port = base.rsplit(":", 1)[1]
        for r in both(net, f"http://start.test:{port}/start?token=SECRET", max_bytes=100):
            assert isinstance(r, ForbiddenAddress), r
            assert "SECRET" not in str(r)
    assert [p for p, _ in seen] == ["/start?token=SECRET"] * 2


def test_first_hop_to_loopback_refused_without_allow_private() -> None:
    with serve({"/": (200, {}, b"secret")}) as (base, seen):
        for r in both(NetworkSettings(), base + "/", max_bytes=100):
            assert isinstance(r, ForbiddenAddress)
    assert seen == []


def test_status_mapping_over_the_wire() -> None:
    routes: dict[str, Reply] = {
        "/429": (429, {"Retry-After": "7"}, b"slow down"),
        "/503": (503, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, b""),
        "/500": (500, {}, b""), "/404": (404, {}, b""), "/410": (410, {}, b""), "/403": (403, {}, b""),
    }
    expected = {"/429": (TransientError, "http_429"), "/503": (TransientError, "http_503"),
                "/500": (TransientError, "http_5xx"), "/404": (Gone, "http_404"), "/410": (Gone, "http_410"),
                "/403": (PermanentError, "http_4xx")}
    with serve(routes) as (base, _):
        for path, (error, kind) in expected.items():
            for r in both(LOCAL, f"{base}{path}?api_key=SECRET", max_bytes=100):
                assert isinstance(r, error) and r.kind == kind, (path, r)
                assert "SECRET" not in str(r) and path in str(r)
        r = both(LOCAL, base + "/429", max_bytes=100)[1]
        assert isinstance(r, TransientError) and r.retry_after == 7.0
        r = both(LOCAL, base + "/503", max_bytes=100)[0]
        assert isinstance(r, TransientError) and r.retry_after == 0.0  # a date in the past


def test_timeout_and_refused_connection() -> None:
    def slow(h: BaseHTTPRequestHandler) -> Reply:
        time.sleep(1.0)
        return 200, {}, b"late"

    quick = NetworkSettings(allow_private_addresses=True, timeout=0.2)
    with serve({"/slow": slow}) as (base, _):
        for r in both(quick, base + "/slow", max_bytes=100):
            assert isinstance(r, TransientError) and r.kind == "timeout"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for r in both(quick, f"http://127.0.0.1:{port}/", max_bytes=100):
        assert isinstance(r, TransientError) and r.kind == "network"


def test_the_sync_client_sends_without_nagle_delay() -> None:
    """TCP_NODELAY on every connection of the pages/webhooks client (httpcore sets it; our guarded
    backend must keep it): a POST's headers and body are separate writes, and Nagle would hold the
    body for the server's delayed ACK (up to 40 ms)."""

    class Ok(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802
            reply(self, 200, {"Content-Type": "text/plain"}, b"ok")

    net = NetworkSettings(allow_private_addresses=True)
    with serving(Ok) as base, http.make_client(net) as client, client.stream("GET", base + "/") as r:
        sock = r.extensions["network_stream"].get_extra_info("socket")
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
