"""Hostile servers against monitor.http (loopback only): DNS rebinding, trickling, TLS, DNS failures, floods.

What test_http.py already covers (bombs, Content-Length, redirect loops, status mapping, timeouts)
is not repeated here.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from localserver import both

from monitor import http
from monitor.errors import ForbiddenAddress, TooLarge, TransientError
from monitor.settings import NetworkSettings
from workers.sinks.base import post


@contextmanager
def raw_server(handle: Any, tls: ssl.SSLContext | None = None,
               greet: bytes = b"") -> Iterator[tuple[int, list[bytes]]]:
    """A TCP server on 127.0.0.1 whose ``handle(conn)`` writes whatever it likes; yields (port, requests).

    ``greet``: bytes sent as soon as a client connects, before reading anything.
    """
    requests: list[bytes] = []
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    lsock.settimeout(0.1)
    stop = threading.Event()

    def one(conn: socket.socket) -> None:
        try:
            if tls is not None:
                conn = tls.wrap_socket(conn, server_side=True)
            conn.settimeout(5)
            if greet:
                conn.sendall(greet)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            requests.append(data)
            handle(conn)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = lsock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=one, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    try:
        yield lsock.getsockname()[1], requests
    finally:
        stop.set()
        lsock.close()


def ok(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello")


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """A fake resolver: each name answers the next address of its list (the last one repeats)."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def fake(host: Any, port: Any, *args: Any, **kw: Any) -> Any:
        if host in answers:
            seq = answers[host]
            address = seq.pop(0) if len(seq) > 1 else seq[0]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 80)))]
        if isinstance(host, str) and host.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, port, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return answers


def test_dns_rebinding_is_refused_at_connect_time(dns: dict[str, list[str]]) -> None:
    # The pre-flight check sees a public address; the connect-time resolution then answers loopback.
    # Without the guarded backend the request would reach the local server.
    strict = NetworkSettings(timeout=2.0)
    with raw_server(ok) as (port, requests):
        for sync in (True, False):
            dns["rebind.test"] = ["93.184.216.34", "127.0.0.1"]
            out = both(strict, f"http://rebind.test:{port}/feed?token=SECRET", max_bytes=100)[0 if sync else 1]
            assert isinstance(out, ForbiddenAddress), out
            assert "127.0.0.1" in str(out) and "SECRET" not in str(out)
    assert requests == []


def test_webhook_post_to_a_rebinding_host_is_refused(dns: dict[str, list[str]]) -> None:
    dns["hook.test"] = ["127.0.0.1"]
    with raw_server(ok) as (port, requests), http.make_client(NetworkSettings(timeout=2.0)) as client, \
            pytest.raises(ForbiddenAddress) as e:
        post(client, f"http://hook.test:{port}/services/T0/B0/SECRETTOKEN", b"{}", {}, timeout=2.0,
             label="webhook sink 0")
    assert "SECRETTOKEN" not in str(e.value) and "hook.test" not in str(e.value)
    assert requests == []


def test_allow_list_connects_to_the_checked_address_and_keeps_the_host_name(dns: dict[str, list[str]]) -> None:
    net = NetworkSettings(timeout=2.0, allow_networks=["127.0.0.1/32"])
    with raw_server(ok) as (port, requests):
        dns["good.test"] = ["127.0.0.1"]
        for r in both(net, f"http://good.test:{port}/x", max_bytes=100):
            assert isinstance(r, http.Response) and r.body == b"hello", r
        # another private address stays forbidden
        dns["other.test"] = ["127.0.0.2"]
        for r in both(net, f"http://other.test:{port}/x", max_bytes=100):
            assert isinstance(r, ForbiddenAddress), r
    assert len(requests) == 2 and all(f"Host: good.test:{port}".encode() in r for r in requests)


def test_a_trickling_server_is_cut_off_by_the_total_deadline() -> None:
    def trickle_body(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        for _ in range(200):
            conn.sendall(b"<")
            time.sleep(0.1)

    def trickle_headers(conn: socket.socket) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200:
            conn.sendall(bytes([byte]))
            time.sleep(0.1)

    # each read returns within the per-read timeout (0.5 s): only the total deadline (1 s) stops it
    net = NetworkSettings(allow_private_addresses=True, timeout=0.5, fetch_deadline=1.0)
    for handler in (trickle_body, trickle_headers):
        with raw_server(handler) as (port, _):
            started = time.monotonic()
            results = both(net, f"http://127.0.0.1:{port}/feed", max_bytes=10**6)
            elapsed = time.monotonic() - started
        assert all(isinstance(r, TransientError) and r.kind == "deadline" for r in results), results
        assert elapsed < 2 * 1.0 + 1.5, elapsed  # two fetches, each about the deadline


def test_a_50_mb_chunked_body_without_length_stops_at_the_cap() -> None:
    def flood(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/rss+xml\r\n\r\n")
        chunk = b"x" * 65536
        for _ in range(800):  # 50 MB
            conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        conn.sendall(b"0\r\n\r\n")

    net = NetworkSettings(allow_private_addresses=True, timeout=5.0)
    with raw_server(flood) as (port, _):
        for r in both(net, f"http://127.0.0.1:{port}/big.xml", max_bytes=1_000_000):
            assert isinstance(r, TooLarge), r


def test_dns_failures() -> None:
    for net in (NetworkSettings(timeout=1.0), NetworkSettings(allow_private_addresses=True, timeout=1.0)):
        for r in both(net, "http://feeds.nowhere.invalid/rss?key=SECRET", max_bytes=100):
            assert isinstance(r, TransientError) and r.kind == "dns", r
            assert "SECRET" not in str(r)


def _certs(folder: Path) -> tuple[Path, Path, Path]:
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=claimwatch test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=tls.test")
    (folder / "ext").write_text("subjectAltName=DNS:tls.test\n")
    run("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "srv.pem", "-days", "2", "-extfile", "ext")
    return folder / "ca.pem", folder / "srv.pem", folder / "srv.key"


def test_tls_errors_and_sni_through_the_guarded_backend(tmp_path: Path, dns: dict[str, list[str]]) -> None:
    ca, cert, key = _certs(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    trusting = ssl.create_default_context(cafile=str(ca))
    net = NetworkSettings(timeout=2.0, allow_networks=["127.0.0.1/32"])
    dns["tls.test"] = ["127.0.0.1"]
    dns["wrong.test"] = ["127.0.0.1"]
    with raw_server(ok, tls=server_ctx) as (port, _):
        # the socket connects to 127.0.0.1, TLS still verifies the certificate against the name (SNI)
        for r in both(net, f"https://tls.test:{port}/", client_kw={"verify": trusting}, max_bytes=100):
            assert isinstance(r, http.Response) and r.body == b"hello", r
        for r in both(net, f"https://wrong.test:{port}/", client_kw={"verify": trusting}, max_bytes=100):
            assert isinstance(r, TransientError) and r.kind == "tls", r  # certificate for another name
        for r in both(net, f"https://tls.test:{port}/", max_bytes=100):  # unknown CA
            assert isinstance(r, TransientError) and r.kind == "tls" and "CERTIFICATE_VERIFY_FAILED" in str(r), r
    with raw_server(ok, greet=b"HTTP/1.1 400 Bad Request\r\n\r\n") as (port, _):  # https to plain HTTP
        for r in both(net, f"https://tls.test:{port}/", max_bytes=100):
            assert isinstance(r, TransientError) and r.kind == "tls", r


def test_the_sync_client_is_guarded_whoever_uses_it(dns: dict[str, list[str]]) -> None:
    # No fetch() around it (no check of the URL before the request): the client itself refuses at
    # connect time, names, IP literals and embedded IPv4 alike, and ignores proxies from the environment.
    dns["loop.test"] = ["127.0.0.1"]
    with raw_server(ok) as (port, requests), http.make_client(NetworkSettings(timeout=2.0)) as c:
        assert c.trust_env is False
        for url in (f"http://loop.test:{port}/", f"http://127.0.0.1:{port}/", f"http://[::ffff:127.0.0.1]:{port}/"):
            with pytest.raises(ForbiddenAddress):
                c.get(url)
    assert requests == []


def _redirect_to(location: str) -> Any:
    def handle(conn: socket.socket) -> None:
        conn.sendall(f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode())

    return handle


@pytest.mark.parametrize("target", ["http://127.0.0.2:{port}/x", "http://loop.test:{port}/x",
                                    "http://mixed.test:{port}/x", "http://[::1]:{port}/x"])
def test_poller_client_refuses_a_redirect_to_a_forbidden_address_at_connect_time(
        monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    # The poller's client (aiohttp) checks at connect time only: the resolver checks every address of a
    # name, the socket factory the one address it connects to (IP literals never reach the resolver).
    # Every target is loopback, so even a broken guard would send nothing off this machine.
    answers = {"start.test": ["127.0.0.1"], "loop.test": ["127.0.0.3"], "mixed.test": ["127.0.0.1", "127.0.0.5"]}
    real = socket.getaddrinfo

    def fake(host: Any, port: Any, *args: Any, **kw: Any) -> Any:
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, int(port))) for a in answers[host]]
        return real(host, port, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    net = NetworkSettings(timeout=2.0, allow_networks=["127.0.0.1/32"])
    with raw_server(ok) as (other, other_requests), \
            raw_server(_redirect_to(target.format(port=other))) as (port, requests):

        async def run() -> Any:
            async with http.make_async_client(net) as c:
                try:
                    return await http.afetch(c, f"http://start.test:{port}/start?token=SECRET", net, max_bytes=100)
                except Exception as e:
                    return e

        out = asyncio.run(run())
    assert isinstance(out, ForbiddenAddress), out
    assert "SECRET" not in str(out) and "not a public address" in str(out)
    assert len(requests) == 1 and requests[0].startswith(b"GET /start?token=SECRET ")
    assert other_requests == []


def test_poller_client_resolves_once_and_connects_to_the_address_it_checked(dns: dict[str, list[str]]) -> None:
    # No check-then-connect split: one lookup per connection, and the socket goes to what it answered.
    # The answer after the first is a forbidden one: asking twice would show as a refusal.
    net = NetworkSettings(timeout=2.0, allow_networks=["127.0.0.1/32"])
    with raw_server(ok) as (port, requests):
        dns["once.test"] = ["127.0.0.1", "127.0.0.9"]
        calls: list[str] = []
        fake = socket.getaddrinfo

        def counting(host: Any, *args: Any, **kw: Any) -> Any:
            calls.append(host)
            return fake(host, *args, **kw)

        socket.getaddrinfo = counting
        try:
            async def run() -> Any:
                async with http.make_async_client(net) as c:
                    return await http.afetch(c, f"http://once.test:{port}/feed", net, max_bytes=100)

            r = asyncio.run(run())
        finally:
            socket.getaddrinfo = fake
    assert isinstance(r, http.Response) and r.body == b"hello"
    assert calls == ["once.test"]
    assert len(requests) == 1 and f"Host: once.test:{port}".encode() in requests[0]


def test_the_poller_client_is_guarded_whoever_uses_it(dns: dict[str, list[str]]) -> None:
    dns["loop.test"] = ["127.0.0.1"]

    async def run(port: int) -> list[BaseException]:
        out = []
        async with http.make_async_client(NetworkSettings(timeout=2.0)) as c:
            assert c.session.trust_env is False  # an environment proxy would bypass the guard
            for url in (f"http://loop.test:{port}/", f"http://127.0.0.1:{port}/"):  # resolver; socket factory
                try:
                    async with c.session.get(url):
                        pass
                except BaseException as e:  # noqa: BLE001
                    out.append(e)
        return out

    with raw_server(ok) as (port, requests):
        errors = asyncio.run(run(port))
    assert len(errors) == 2 and all(isinstance(e, ForbiddenAddress) for e in errors), errors
    assert requests == []
