"""monitor.http without the network: the SSRF guard, Retry-After, status mapping, bounded decoding."""

from __future__ import annotations

import gzip
import socket
import zlib
from datetime import UTC, datetime
from email.utils import format_datetime

import brotli
import httpx
import pytest

from monitor import decode, http
from monitor.errors import ForbiddenAddress, Gone, PermanentError, TooLarge, TransientError
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


def test_parse_retry_after() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC).timestamp()
    assert http.parse_retry_after("120") == 120.0
    assert http.parse_retry_after(" 0 ") == 0.0
    later = format_datetime(datetime(2024, 5, 1, 12, 1, 30, tzinfo=UTC), usegmt=True)
    assert http.parse_retry_after(later, now=now) == 90.0
    assert http.parse_retry_after("Wed, 01 May 2024 11:00:00 GMT", now=now) == 0.0  # in the past
    for bad in (None, "", "soon", "-5", "1.5e3", "Wed, 99 Foo 2024"):
        assert http.parse_retry_after(bad, now=now) is None


@pytest.mark.parametrize(("status", "error", "kind"), [
    (200, None, None), (204, None, None), (304, None, None),
    (429, TransientError, "http_429"), (503, TransientError, "http_503"), (500, TransientError, "http_5xx"),
    (502, TransientError, "http_5xx"), (408, TransientError, "http_5xx"), (404, Gone, "http_404"),
    (410, Gone, "http_410"), (403, PermanentError, "http_4xx"), (400, PermanentError, "http_4xx"),
    (300, PermanentError, "http_3xx"),
])
def test_status_mapping(status: int, error: type | None, kind: str | None) -> None:
    err = http._status_error(status, httpx.Headers({"Retry-After": "30"}), "https://h.test/p?key=SECRET")
    if error is None:
        assert err is None
        return
    assert type(err) is error and err.kind == kind and "SECRET" not in str(err)
    if status in (429, 503):
        assert err.retry_after == 30.0


def test_redirect_target_is_absolute_without_fragment() -> None:
    h = httpx.Headers({"Location": "../b?x=1#frag"})
    assert http._redirect("https://h.test/a/c", 302, h) == "https://h.test/b?x=1"
    assert http._redirect("https://h.test/a/c", 200, h) is None
    assert http._redirect("https://h.test/a/c", 301, httpx.Headers()) is None


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
