"""monitor.http without the network: the SSRF guard, redirect targets, bounded decoding."""

from __future__ import annotations

import gzip
import socket
import zlib

import brotli
import httpx
import pytest

from monitor import decode, http
from monitor.errors import ForbiddenAddress, PermanentError, TooLarge, TransientError
from monitor.http import urls
from monitor.settings import NetworkSettings

STRICT = NetworkSettings()
OPEN = NetworkSettings(allow_private_addresses=True)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://127.1.2.3:8080/x", "http://localhost/", "http://10.0.0.1/",
    "http://172.16.5.4/", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/", "http://100.127.255.254/", "http://224.0.0.1/", "http://0.0.0.0/",
    "http://240.0.0.1/", "http://255.255.255.255/", "http://[::1]/", "http://[fe80::1]/",
    "http://[fc00::1]/", "http://[::ffff:127.0.0.1]/", "http://[::]/", "https://192.0.2.1/",
])
def test_guard_refuses_private_addresses(url: str) -> None:
    with pytest.raises(ForbiddenAddress):
        http.guard(url, STRICT)
    http.guard(url, OPEN)  # allowed when the operator says so


@pytest.mark.parametrize("url", ["http://93.184.216.34/", "https://8.8.8.8:443/q?x=1", "http://[2606:4700::1]/",
                                 "http://100.128.0.1/"])
def test_guard_allows_public_addresses(url: str) -> None:
    http.guard(url, STRICT)


# IPv6 addresses that carry an IPv4 address are judged by it too: 6to4 (2002::/16), NAT64 (64:ff9b::/96,
# 64:ff9b:1::/48), Teredo (2001::/32, server and client), IPv4-mapped (::ffff:0:0/96).
EMBEDDING_FORBIDDEN = [
    "2002:7f00:1::", "2002:a9fe:a9fe::", "2002:a00:1::1", "2002:6440:1::",  # 6to4 of 127.0.0.1, 169.254.169.254, ...
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::a00:1", "64:ff9b::6440:1",  # NAT64 of the same
    "64:ff9b:1::7f00:1", "64:ff9b:1::808:808",  # local-use NAT64: not global itself
    "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:0:a9fe:a9fe::808:808",  # Teredo
    "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:100.64.0.1", "fec0::1",  # mapped; site-local
]


@pytest.mark.parametrize("address", EMBEDDING_FORBIDDEN)
def test_addresses_embedding_a_forbidden_ipv4_are_forbidden(address: str) -> None:
    assert http.forbidden(address)
    with pytest.raises(ForbiddenAddress):
        http.guard(f"http://[{address}]/", STRICT)


@pytest.mark.parametrize("address", ["2002:808:808::1", "64:ff9b::808:808", "::ffff:8.8.8.8", "2606:4700::1"])
def test_addresses_embedding_a_public_ipv4_stay_allowed(address: str) -> None:
    assert not http.forbidden(address)  # 6to4 to a public host; NAT64 (DNS64 on an IPv6-only host)


def test_allow_networks_covers_embedded_addresses_one_by_one() -> None:
    assert not http.forbidden("2002:7f00:1::", ["127.0.0.1/32"])  # the relay target is allowed, the 6to4 is global
    assert not http.forbidden("64:ff9b::a00:5", ["10.0.0.5/32"])
    assert http.forbidden("64:ff9b:1::a00:5", ["10.0.0.5/32"])  # the local NAT64 prefix itself is not allowed
    assert not http.forbidden("64:ff9b:1::a00:5", ["10.0.0.5/32", "64:ff9b:1::/48"])
    assert http.forbidden("64:ff9b:1::7f00:1", ["64:ff9b:1::/48"])  # allowing the prefix allows no loopback
    teredo_to_loopback = "2001:0:808:808::80ff:fffe"  # server 8.8.8.8, client 127.0.0.1 (stored inverted)
    assert http.forbidden(teredo_to_loopback, ["2001::/32"])
    assert not http.forbidden("2001:0:808:808::f7f7:f7f7", ["2001::/32"])  # client 8.8.8.8


@pytest.mark.parametrize("url", ["ftp://93.184.216.34/", "file:///etc/passwd", "gopher://x/", "javascript:alert(1)"])
def test_guard_refuses_other_schemes_even_when_private_allowed(url: str) -> None:
    for net in (STRICT, OPEN):
        with pytest.raises(ForbiddenAddress):
            http.guard(url, net)


def test_guard_refuses_when_any_resolved_address_is_private(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {"mixed.test": ["93.184.216.34", "10.1.2.3"], "public.test": ["93.184.216.34", "2606:4700::1"]}

    def fake(host: str, port: int, *args: object, **kw: object) -> list[tuple]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in answers[host]]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    http.guard("https://public.test/feed", STRICT)
    with pytest.raises(ForbiddenAddress, match="10.1.2.3"):
        http.guard("https://mixed.test/feed?token=SECRET", STRICT)
    with pytest.raises(TransientError) as e:
        http.guard("https://nowhere.test/feed?token=SECRET", STRICT)
    assert e.value.kind == "dns"
    assert "SECRET" not in str(e.value)


def test_guard_bad_urls() -> None:
    with pytest.raises(PermanentError):
        http.guard("http:///nohost", STRICT)
    with pytest.raises(PermanentError):
        http.guard("http://example.com:99999/", STRICT)


def test_safe_url_drops_query_and_credentials() -> None:
    assert http.safe_url("https://user:pw@Example.com:8443/a/b?token=s3cret#f") == "https://example.com:8443/a/b"


def test_redirect_target_is_absolute_without_fragment() -> None:
    h = httpx.Headers({"Location": "../b?x=1#frag"})
    assert urls.redirect_target("https://h.test/a/c", 302, h) == "https://h.test/b?x=1"
    assert urls.redirect_target("https://h.test/a/c", 200, h) is None
    assert urls.redirect_target("https://h.test/a/c", 301, httpx.Headers()) is None


def _decode(raw: bytes, encoding: str, max_bytes: int, step: int = 7000) -> bytes:
    body = decode.Body("https://h.test/x", httpx.Headers({"Content-Encoding": encoding} if encoding else {}), max_bytes)
    for i in range(0, len(raw), step):
        body.feed(raw[i:i + step])
    return body.finish()


@pytest.mark.parametrize("encoding", ["", "gzip", "x-gzip", "deflate", "deflate-raw", "br", "identity"])
def test_body_decodings(encoding: str) -> None:
    data = b"<rss>" + bytes(range(256)) * 500 + b"</rss>"
    raw = {
        "": data, "identity": data, "gzip": gzip.compress(data), "x-gzip": gzip.compress(data),
        "deflate": zlib.compress(data), "br": brotli.compress(data),
    }.get(encoding)
    if encoding == "deflate-raw":
        z = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        raw, encoding = z.compress(data) + z.flush(), "deflate"
    assert _decode(raw, encoding, max_bytes=len(data)) == data
    with pytest.raises(TooLarge):
        _decode(raw, encoding, max_bytes=len(data) - 1)


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_bomb_stops_at_the_cap(encoding: str) -> None:
    bomb = (gzip.compress if encoding == "gzip" else brotli.compress)(b"\0" * 50_000_000)
    body = decode.Body("https://h.test/x", httpx.Headers({"Content-Encoding": encoding}), 100_000)
    with pytest.raises(TooLarge):
        body.feed(bomb)  # one raw chunk that would inflate to 50 MB
    assert body.size <= 100_000 + 4 * decode.STEP  # brotli's limit is soft: about one step over


def test_content_length_over_cap_is_refused_before_reading() -> None:
    with pytest.raises(TooLarge):
        decode.Body("https://h.test/x", httpx.Headers({"Content-Length": "5000"}), 4999)


def test_bad_encodings() -> None:
    with pytest.raises(PermanentError) as e:
        _decode(b"not gzip at all", "gzip", 1000)
    assert e.value.kind == "bad_encoding"
    with pytest.raises(PermanentError):
        _decode(b"x", "compress", 1000)
