"""monitor.http.outcomes: the one table from statuses and library exceptions to the error tree, the
same for the poller (aiohttp), the page fetch and the sinks (httpx/httpcore)."""

from __future__ import annotations

import socket
import ssl

import aiohttp
import httpcore
import httpx
import pytest

from monitor.errors import ForbiddenAddress, Gone, PermanentError, TooLarge, TransientError
from monitor.http.deadline import Deadline, DeadlineExceeded
from monitor.http.outcomes import ResolveFailed, error_for, status_error

WHERE = "https://h.test/p"


@pytest.mark.parametrize(("status", "error", "kind"), [
    (200, None, None), (201, None, None), (204, None, None),
    (429, TransientError, "http_429"), (503, TransientError, "http_503"), (500, TransientError, "http_5xx"),
    (502, TransientError, "http_5xx"), (599, TransientError, "http_5xx"), (408, TransientError, "http_5xx"),
    (404, Gone, "http_404"), (410, Gone, "http_410"), (403, PermanentError, "http_4xx"),
    (400, PermanentError, "http_4xx"), (401, PermanentError, "http_4xx"), (300, PermanentError, "http_3xx"),
    (301, PermanentError, "http_3xx"), (304, PermanentError, "http_3xx"), (199, PermanentError, "http_status"),
])
def test_status_table(status: int, error: type | None, kind: str | None) -> None:
    err = status_error(status, httpx.Headers({"Retry-After": "30"}), f"HTTP {status} from {WHERE}")
    if error is None:
        assert err is None
        return
    assert type(err) is error and err.kind == kind
    assert str(err).startswith(f"HTTP {status} from {WHERE}")
    if isinstance(err, TransientError):
        assert err.retry_after == 30.0  # 429, 503 and every 5xx may say when to come back


@pytest.mark.parametrize(("headers", "body", "retry_after"), [
    ({"Retry-After": "7"}, b"", 7.0),
    ({"Retry-After": "7"}, b'{"retry_after": 99}', 7.0),  # the header wins
    ({}, b'{"message": "You are being rate limited.", "retry_after": 0.64, "global": false}', 0.64),
    ({}, b'{"ok": false, "error_code": 429, "parameters": {"retry_after": 31}}', 31.0),
    ({}, b"slow down", None),
    ({"Retry-After": "soon"}, b"", None),
])
def test_429_retry_after_from_header_else_body(headers: dict[str, str], body: bytes, retry_after: float | None) -> None:
    err = status_error(429, httpx.Headers(headers), "webhook sink 0: HTTP 429", body=body)
    assert isinstance(err, TransientError) and err.kind == "http_429" and err.retry_after == retry_after
    assert str(err) == "webhook sink 0: HTTP 429"


def _raised(outer: BaseException, inner: BaseException) -> BaseException:
    """``outer`` raised while handling ``inner`` (as libraries wrap socket and TLS errors)."""
    try:
        try:
            raise inner
        except BaseException:
            raise outer  # noqa: B904
    except BaseException as e:
        return e


@pytest.mark.parametrize(("exc", "error", "kind"), [
    (httpx.ReadTimeout("t"), TransientError, "timeout"),
    (httpx.ConnectTimeout("t"), TransientError, "timeout"),
    (httpcore.ReadTimeout("t"), TransientError, "timeout"),
    (httpcore.PoolTimeout("t"), TransientError, "timeout"),
    (aiohttp.SocketTimeoutError("t"), TransientError, "timeout"),
    (TimeoutError(), TransientError, "timeout"),
    (_raised(httpcore.ReadTimeout("t"), ssl.SSLError(1, "x")), TransientError, "timeout"),  # timeouts before TLS
    (_raised(httpcore.ConnectError("c"), ssl.SSLCertVerificationError(1, "x")), TransientError, "tls"),
    (_raised(httpx.ConnectError("c"), ssl.SSLError(1, "x")), TransientError, "tls"),
    (ResolveFailed("no"), TransientError, "dns"),
    (aiohttp.ClientConnectorDNSError(None, socket.gaierror(-2, "x")), TransientError, "dns"),  # type: ignore[arg-type]
    (httpx.ConnectError("c"), TransientError, "network"),
    (httpcore.RemoteProtocolError("r"), TransientError, "network"),
    (httpx.RemoteProtocolError("r"), TransientError, "network"),
    (aiohttp.ServerDisconnectedError(), TransientError, "network"),
    (aiohttp.ClientPayloadError("p"), TransientError, "network"),
    (ConnectionResetError(), TransientError, "network"),
    (httpx.InvalidURL("u"), PermanentError, "bad_url"),
    (aiohttp.InvalidURL("u"), PermanentError, "bad_url"),
    (_raised(httpcore.ConnectError("c"), ForbiddenAddress("refused to connect to 10.0.0.1: not a public address")),
     ForbiddenAddress, "forbidden_address"),
])
def test_library_errors_table(exc: BaseException, error: type, kind: str) -> None:
    err = error_for(exc, WHERE)
    assert type(err) is error and err.kind == kind, err
    assert str(err).startswith(f"{WHERE}: ")


def test_tls_errors_say_why() -> None:
    inner = ssl.SSLCertVerificationError(1, "certificate verify failed")
    inner.reason = "CERTIFICATE_VERIFY_FAILED"
    err = error_for(_raised(httpcore.ConnectError("c"), inner), WHERE)
    assert err is not None and "CERTIFICATE_VERIFY_FAILED" in str(err)


def test_a_passed_deadline_makes_any_failure_the_deadline() -> None:
    passed = Deadline(0.0)
    for exc in (DeadlineExceeded("d"), httpcore.ReadTimeout("t"), httpcore.ReadError("r"),
                aiohttp.ClientPayloadError()):
        err = error_for(exc, WHERE, passed)
        assert isinstance(err, TransientError) and err.kind == "deadline" and "0 s deadline" in str(err)
    assert error_for(httpcore.ReadTimeout("t"), WHERE, Deadline(60)).kind == "timeout"  # type: ignore[union-attr]


def test_our_own_errors_and_bugs_are_not_read_through_the_table() -> None:
    assert error_for(TooLarge("x"), WHERE) is None
    assert error_for(Gone("x", kind="http_404"), WHERE) is None
    assert error_for(KeyError("bug"), WHERE) is None
    assert error_for(TooLarge("x"), WHERE, Deadline(0.0)) is None
