"""The only place that does outbound HTTP.

- ``guard``: every hop's host is resolved and refused when ANY address is loopback, private,
  link-local, CGNAT, multicast, reserved or unspecified (unless ``allow_private_addresses``).
- ``fetch``/``afetch``: redirects followed by hand (guarded, loop-checked, capped); the body is
  streamed RAW and inflated here in bounded steps, so a gzip bomb is cut off at ``max_bytes`` without
  ever being inflated in memory; HTTP statuses and transport failures map onto ``monitor.errors``.

Sync and async share every decision (headers, status mapping, redirect targets, body decoding);
only the I/O loop is written twice. Error messages carry ``scheme://host/path`` only (no query).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import ipaddress
import socket
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import brotli
import httpx

from monitor.errors import ForbiddenAddress, Gone, PermanentError, TooLarge, TransientError
from monitor.settings import NetworkSettings

_STEP = 64 * 1024  # inflate at most this many bytes per step
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class Response:
    url: str  # final URL after redirects
    status: int  # 200..299 or 304
    headers: dict[str, str]  # lower-cased names
    body: bytes  # decompressed; b"" for 304


def safe_url(url: str) -> str:
    """``scheme://host/path`` only: what a log line or error message may show of a URL."""
    try:
        p = urlsplit(url)
        return f"{p.scheme}://{p.netloc.rsplit('@', 1)[-1].lower()}{p.path}"
    except ValueError:
        return "<bad url>"


# --------------------------------------------------------------------------- the guard


def _target(url: str) -> tuple[str, int]:
    try:
        p = urlsplit(url)
        port = p.port
    except ValueError:
        raise PermanentError(f"bad URL {safe_url(url)}", kind="bad_url") from None
    if p.scheme not in ("http", "https"):
        raise ForbiddenAddress(f"not an http(s) URL: {safe_url(url)}", kind="forbidden_scheme")
    if not p.hostname:
        raise PermanentError(f"no host in {safe_url(url)}", kind="bad_url")
    return p.hostname, port or (443 if p.scheme == "https" else 80)


def forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
        or ip.is_unspecified or not ip.is_global or (ip.version == 4 and ip in _CGNAT)
    )


def _check(url: str, host: str, infos: list[Any]) -> None:
    for info in infos:
        if forbidden(str(info[4][0])):
            raise ForbiddenAddress(f"{safe_url(url)} resolves to a forbidden address ({info[4][0]})")


def _dns_error(url: str, e: OSError) -> TransientError:
    return TransientError(f"cannot resolve {safe_url(url)}: {e.strerror or e}", kind="dns")


def guard(url: str, net: NetworkSettings) -> None:
    host, port = _target(url)
    if net.allow_private_addresses:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as e:
        raise _dns_error(url, e) from None
    except UnicodeError:
        raise PermanentError(f"bad host name in {safe_url(url)}", kind="bad_url") from None
    _check(url, host, infos)


async def aguard(url: str, net: NetworkSettings) -> None:
    """``guard`` with the resolver run off the event loop."""
    host, port = _target(url)
    if net.allow_private_addresses:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as e:
        raise _dns_error(url, e) from None
    except UnicodeError:
        raise PermanentError(f"bad host name in {safe_url(url)}", kind="bad_url") from None
    _check(url, host, infos)


# --------------------------------------------------------------------------- clients


def _client_options(net: NetworkSettings) -> dict[str, Any]:
    return {
        "follow_redirects": False,
        "timeout": net.timeout,
        "headers": {"User-Agent": net.user_agent, "Accept-Encoding": "gzip, deflate, br"},
        "limits": httpx.Limits(max_connections=max(net.concurrency, 10)),
    }


def make_client(net: NetworkSettings) -> httpx.Client:
    return httpx.Client(**_client_options(net))


def make_async_client(net: NetworkSettings) -> httpx.AsyncClient:
    return httpx.AsyncClient(**_client_options(net))


# --------------------------------------------------------------------------- pure helpers


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait, from delta-seconds or an HTTP-date; None when absent or unreadable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _request_headers(extra: Mapping[str, str] | None) -> dict[str, str]:
    return {k: v for k, v in (extra or {}).items() if v}


def _status_error(status: int, headers: httpx.Headers, url: str) -> Exception | None:
    """The error a final (non-redirect) status means, or None when the response is usable."""
    where = safe_url(url)
    if 200 <= status < 300 or status == 304:
        return None
    if status in (429, 503):
        return TransientError(f"HTTP {status} from {where}", kind=f"http_{status}",
                              retry_after=parse_retry_after(headers.get("retry-after")))
    if status >= 500 or status == 408:
        return TransientError(f"HTTP {status} from {where}", kind="http_5xx",
                              retry_after=parse_retry_after(headers.get("retry-after")))
    if status in (404, 410):
        return Gone(f"HTTP {status} from {where}", kind=f"http_{status}")
    if 300 <= status < 400:
        return PermanentError(f"HTTP {status} without a usable Location from {where}", kind="http_3xx")
    return PermanentError(f"HTTP {status} from {where}", kind="http_4xx")


def _redirect(url: str, status: int, headers: httpx.Headers) -> str | None:
    location = headers.get("location")
    if status not in _REDIRECTS or not location:
        return None
    return urljoin(url, location.strip()).split("#", 1)[0]


class _Hops:
    """Where the next request goes; refuses loops and more than ``limit`` redirects."""

    def __init__(self, url: str, limit: int):
        self.url, self.limit, self.seen = url, limit, {url}

    def follow(self, target: str) -> None:
        if target in self.seen:
            raise PermanentError(f"redirect loop at {safe_url(target)}", kind="redirect_loop")
        if len(self.seen) > self.limit:
            raise PermanentError(f"more than {self.limit} redirects from {safe_url(self.url)}",
                                 kind="too_many_redirects")
        self.seen.add(target)
        self.url = target


class _Body:
    """Raw chunks in, decoded body out; never holds more than ``max_bytes`` + one step inflated."""

    def __init__(self, url: str, headers: httpx.Headers, max_bytes: int):
        self.where, self.max_bytes = safe_url(url), max_bytes
        raw_length = headers.get("content-length", "")
        if raw_length.isdigit() and int(raw_length) > max_bytes:
            raise TooLarge(f"{self.where}: Content-Length {raw_length} > {max_bytes} bytes")
        codings = [c.strip().lower() for c in headers.get("content-encoding", "").split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate", "br")):
            raise PermanentError(f"{self.where}: unsupported Content-Encoding {','.join(codings)}",
                                 kind="bad_encoding")
        self.coding = codings[0] if codings else ""
        self.z: Any = None
        if self.coding in ("gzip", "x-gzip"):
            self.z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.coding == "br":
            self.z = brotli.Decompressor()
        self.parts: list[bytes] = []
        self.size = 0

    def _inflate(self, data: bytes) -> Iterator[bytes]:
        if not self.coding:
            yield data
        elif self.coding == "br":
            out = self.z.process(data, output_buffer_limit=_STEP)
            yield out
            while out and not self.z.is_finished():  # drain what the limit held back, a step at a time
                out = self.z.process(b"", output_buffer_limit=_STEP)
                yield out
        else:
            if self.z is None:  # deflate: zlib-wrapped as the RFC says, raw as many servers send
                wrapped = len(data) >= 2 and (data[0] & 0x0F) == 8 and (data[0] << 8 | data[1]) % 31 == 0
                self.z = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            while data and not self.z.eof:
                yield self.z.decompress(data, _STEP)
                data = self.z.unconsumed_tail

    def _add(self, chunks: Iterator[bytes]) -> None:
        try:
            for chunk in chunks:
                self.size += len(chunk)
                if self.size > self.max_bytes:
                    raise TooLarge(f"{self.where}: body over {self.max_bytes} bytes")
                self.parts.append(chunk)
        except (zlib.error, brotli.error) as e:
            raise PermanentError(f"{self.where}: bad {self.coding} body: {e}", kind="bad_encoding") from None

    def feed(self, raw: bytes) -> None:
        self._add(self._inflate(raw))

    def _rest(self) -> Iterator[bytes]:
        if self.coding in ("gzip", "x-gzip", "deflate") and self.z is not None:
            yield self.z.flush()  # what zlib still holds: at most its 32 KiB window

    def response(self, url: str, status: int, headers: httpx.Headers) -> Response:
        self._add(self._rest())
        body = b"" if status == 304 else b"".join(self.parts)
        return Response(url, status, {k.lower(): v for k, v in headers.items()}, body)


@contextlib.contextmanager
def _mapped(url: str) -> Iterator[None]:
    """httpx's failures -> our error tree."""
    where = safe_url(url)
    try:
        yield
    except httpx.TimeoutException:
        raise TransientError(f"timeout fetching {where}", kind="timeout") from None
    except httpx.TransportError as e:
        raise TransientError(f"{type(e).__name__} fetching {where}", kind="network") from None
    except httpx.InvalidURL:
        raise PermanentError(f"bad URL {where}", kind="bad_url") from None


# --------------------------------------------------------------------------- the I/O loops


def fetch(client: httpx.Client, url: str, net: NetworkSettings, *, max_bytes: int,
          headers: Mapping[str, str] | None = None) -> Response:
    hops = _Hops(url, net.max_redirects)
    while True:
        guard(hops.url, net)
        with _mapped(hops.url), client.stream("GET", hops.url, headers=_request_headers(headers)) as r:
            target = _redirect(hops.url, r.status_code, r.headers)
            if target is None:
                if err := _status_error(r.status_code, r.headers, hops.url):
                    raise err
                body = _Body(hops.url, r.headers, max_bytes)
                for raw in r.iter_raw():
                    body.feed(raw)
                return body.response(hops.url, r.status_code, r.headers)
        hops.follow(target)


async def afetch(client: httpx.AsyncClient, url: str, net: NetworkSettings, *, max_bytes: int,
                 headers: Mapping[str, str] | None = None) -> Response:
    hops = _Hops(url, net.max_redirects)
    while True:
        await aguard(hops.url, net)
        with _mapped(hops.url):
            async with client.stream("GET", hops.url, headers=_request_headers(headers)) as r:
                target = _redirect(hops.url, r.status_code, r.headers)
                if target is None:
                    if err := _status_error(r.status_code, r.headers, hops.url):
                        raise err
                    body = _Body(hops.url, r.headers, max_bytes)
                    async for raw in r.aiter_raw():
                        body.feed(raw)
                    return body.response(hops.url, r.status_code, r.headers)
        hops.follow(target)
