"""One table from HTTP outcomes to the error tree (``monitor.errors``), for every caller: the poller
(aiohttp), the page fetch and the sinks' POSTs (httpx over httpcore), sync and async alike (in the
spirit of httpx's ``HTTPCORE_EXC_MAP``).

``STATUSES``: a final status -> (error, kind, does Retry-After count). 2xx is success; 304 is the
fetch loop's business (a conditional GET), and redirects are followed there; any other 3xx reaching
this table is an error.

``LIBRARY_ERRORS``: an exception -> (error, kind, what to say). The first row whose exception type
appears anywhere in the exception's chain (``__cause__``/``__context__``) wins, so the order is the
policy: our own markers first (forbidden address, deadline, DNS), then timeouts before TLS (a TLS
read that timed out is a timeout), then bad URLs, then every other transport failure. A deadline
that has passed makes any failure a ``deadline``.

Messages are ``"{where}: {what}"``; ``where`` is ``safe_url()`` of the request or a sink's label, so
no message carries a query string, a token or a secret.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Mapping

import aiohttp
import httpcore
import httpx

from monitor.errors import ClaimwatchError, ForbiddenAddress, Gone, PermanentError, TransientError
from monitor.http.deadline import Deadline
from monitor.http.headers import body_retry_after, parse_retry_after

STATUSES: tuple[tuple[range, type[ClaimwatchError], str, bool], ...] = (
    (range(429, 430), TransientError, "http_429", True),
    (range(503, 504), TransientError, "http_503", True),
    (range(500, 1000), TransientError, "http_5xx", True),
    (range(408, 409), TransientError, "http_5xx", True),  # request timeout: try again later
    (range(404, 405), Gone, "http_404", False),
    (range(410, 411), Gone, "http_410", False),
    (range(300, 400), PermanentError, "http_3xx", False),
    (range(400, 500), PermanentError, "http_4xx", False),
)


class ResolveFailed(httpcore.ConnectError):
    """The host name did not resolve (raised by the guarded network backend)."""


LIBRARY_ERRORS: tuple[tuple[type[BaseException], type[ClaimwatchError], str, str], ...] = (
    (ForbiddenAddress, ForbiddenAddress, "forbidden_address", "{error}"),
    (ResolveFailed, TransientError, "dns", "cannot resolve the host"),
    (aiohttp.ClientConnectorDNSError, TransientError, "dns", "cannot resolve the host"),
    (httpcore.TimeoutException, TransientError, "timeout", "timed out ({type})"),
    (httpx.TimeoutException, TransientError, "timeout", "timed out ({type})"),
    (TimeoutError, TransientError, "timeout", "timed out ({type})"),  # aiohttp's per-read timeout
    (ssl.SSLError, TransientError, "tls", "TLS error: {tls}"),
    (aiohttp.ClientSSLError, TransientError, "tls", "TLS error: {tls}"),
    (httpx.InvalidURL, PermanentError, "bad_url", "bad URL"),
    (aiohttp.InvalidURL, PermanentError, "bad_url", "bad URL"),
    (ValueError, PermanentError, "bad_url", "bad URL"),  # yarl and idna on a URL they cannot parse
    (httpcore.NetworkError, TransientError, "network", "network error ({type})"),
    (httpcore.ProtocolError, TransientError, "network", "network error ({type})"),
    (httpcore.UnsupportedProtocol, TransientError, "network", "network error ({type})"),
    (httpx.TransportError, TransientError, "network", "network error ({type})"),
    (aiohttp.ClientError, TransientError, "network", "network error ({type})"),
    (OSError, TransientError, "network", "network error ({type})"),
)


def status_error(status: int, headers: Mapping[str, str], message: str, body: bytes | None = None
                 ) -> ClaimwatchError | None:
    """The error a final status means (``message`` says whose: ``"HTTP 404 from ..."``), or None on 2xx.
    A 429's ``retry_after`` comes from its header, else from a JSON ``body`` (chat APIs)."""
    if 200 <= status < 300:
        return None
    row = next((r for r in STATUSES if status in r[0]), None)
    if row is None:
        return PermanentError(message, kind="http_status")
    _, error, kind, retry = row
    if 300 <= status < 400:
        message += " (not a redirect this client follows)"
    if not retry:
        return error(message, kind=kind)
    seconds = parse_retry_after(headers.get("retry-after"))
    if seconds is None and status == 429 and body:
        seconds = body_retry_after(body)
    return TransientError(message, kind=kind, retry_after=seconds)


def chain(e: BaseException) -> Iterator[BaseException]:
    cur: BaseException | None = e
    for _ in range(10):
        if cur is None:
            return
        yield cur
        cur = cur.__cause__ or cur.__context__


def _tls_reason(e: BaseException) -> str:
    found = [*chain(e), getattr(e, "certificate_error", None), getattr(e, "os_error", None)]
    reasons = (getattr(x, "reason", None) for x in found if isinstance(x, ssl.SSLError))
    return next((str(r) for r in reasons if r), "handshake failed")


def error_for(e: BaseException, where: str, deadline: Deadline | None = None) -> ClaimwatchError | None:
    """The error tree's reading of a library's exception; None for what is not a transport failure
    (our own errors raised on purpose, bugs): the caller re-raises those unchanged. Once the fetch's
    ``deadline`` has passed, whatever broke the request is reported as the deadline."""
    if isinstance(e, ClaimwatchError):
        if not isinstance(e, ForbiddenAddress):
            return None
    elif deadline is not None and deadline.expired:
        return deadline.error(where)
    links = list(chain(e))
    for exc_type, error, kind, what in LIBRARY_ERRORS:
        hit = next((x for x in links if isinstance(x, exc_type)), None)
        if hit is not None:
            text = what.format(error=hit, type=type(e).__name__, tls=_tls_reason(e) if kind == "tls" else "")
            return error(f"{where}: {text}", kind=kind)
    return None
