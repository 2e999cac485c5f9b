"""The only place that does outbound HTTP.

- ``guard``: every hop's host is resolved and refused when ANY address is loopback, private,
  link-local, CGNAT, multicast, reserved or unspecified (unless ``allow_private_addresses``, or the
  address is inside one of ``allow_networks``).
- The clients connect through a guarded network backend: the host is resolved ONCE at connect time,
  every address is checked, and the socket connects to that checked address (TLS SNI and the Host
  header keep the name). No DNS-rebinding window between the check and the connect; redirects,
  feeds, pages and webhook POSTs all go through it. ``make_client`` (pages, webhooks, ``check``) is
  httpx with ``GuardedBackend``; ``make_async_client`` (the feed poller) is aiohttp, whose resolver
  (``_GuardedResolver``: every address of the name) and socket factory (the one address about to
  be connected, IP literals included) make the same check with the same ``forbidden``. aiohttp
  because the poller's 304 path is mostly HTTP overhead: about 0.07 ms CPU per request against
  1.3-1.5 ms for httpx/httpcore's async pool (benchmarks/polling.py).
- ``fetch``/``afetch``: redirects followed by hand (guarded, loop-checked, capped); the body is
  streamed RAW and inflated in bounded steps (``monitor.decode``); one total deadline per fetch
  (``fetch_deadline``, redirects included) clamps every connect, read and write, so a server that
  trickles a byte a second is cut off; HTTP statuses and transport failures map onto ``monitor.errors``
  (kinds: ``timeout``, ``deadline``, ``dns``, ``tls``, ``network``, ``forbidden_address``, ``http_*``...).

Sync and async share every decision (headers, status mapping, redirect targets, body decoding);
only the I/O loop is written out per client. Error messages carry ``scheme://host/path`` only (no query).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
import aiohttp.abc
import httpcore
import httpx

from monitor.decode import STEP as _STEP  # noqa: F401  (re-exported for callers of the old name)
from monitor.decode import Body
from monitor.errors import ClaimwatchError, ForbiddenAddress, Gone, PermanentError, TransientError
from monitor.settings import NetworkSettings

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_REDIRECTS = (301, 302, 303, 307, 308)
_DEADLINE: ContextVar[float | None] = ContextVar("claimwatch_fetch_deadline", default=None)  # time.monotonic()
_Body = Body  # the old name


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


@functools.lru_cache(maxsize=32)
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def forbidden(address: str, allowed: Iterable[str] = ()) -> bool:
    """True when ``address`` is not a public unicast address and no ``allowed`` CIDR holds it."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if any(ip in n for n in _networks(tuple(allowed)) if n.version == ip.version):
        return False
    return (
        ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
        or ip.is_unspecified or not ip.is_global or (ip.version == 4 and ip in _CGNAT)
    )


def _check(url: str, host: str, infos: list[Any], net: NetworkSettings | None = None) -> None:
    allowed = net.allow_networks if net is not None else ()
    for info in infos:
        if forbidden(str(info[4][0]), allowed):
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
    _check(url, host, infos, net)


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
    _check(url, host, infos, net)


# --------------------------------------------------------------------------- clients


class _DeadlineExceeded(httpcore.ReadTimeout):
    """The fetch's total deadline passed (a trickling server, a slow redirect chain)."""


class _ResolveFailed(httpcore.ConnectError):
    """The host name did not resolve."""


def _remaining(timeout: float | None) -> float | None:
    """``timeout`` clamped to what is left of the current fetch's deadline."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise _DeadlineExceeded("the fetch deadline passed")
    return left if timeout is None else min(timeout, left)


def check_addresses(addresses: Iterable[str], net: NetworkSettings) -> None:
    """The connect-time guard of every client: ForbiddenAddress if ANY address is forbidden."""
    if net.allow_private_addresses:
        return
    for a in addresses:
        if forbidden(a, net.allow_networks):  # the message names no URL: it may reach a webhook's log
            raise ForbiddenAddress(f"refused to connect to {a}: not a public address")


def _checked(host: str, infos: list[Any], net: NetworkSettings) -> list[str]:
    """The addresses to try, in resolver order; ForbiddenAddress if ANY of them is forbidden."""
    addresses = list(dict.fromkeys(str(i[4][0]) for i in infos))
    if not addresses:
        raise _ResolveFailed("no address")
    check_addresses(addresses, net)
    return addresses


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _remaining(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _remaining(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Resolve once, check every address, connect to a checked address; deadline-clamped I/O."""

    def __init__(self, net: NetworkSettings):
        self.net, self._inner = net, httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as e:
            raise _ResolveFailed(f"cannot resolve: {type(e).__name__}") from None
        error: Exception | None = None
        for address in _checked(host, infos, self.net):
            try:
                return _Stream(self._inner.connect_tcp(address, port, _remaining(timeout), local_address,
                                                       socket_options))
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                error = e
        raise error  # type: ignore[misc]

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _GuardedResolver(aiohttp.abc.AbstractResolver):
    """aiohttp's name resolution, guarded: one lookup per connection, ForbiddenAddress if ANY address of
    the name is forbidden; aiohttp then connects to these very addresses (no second lookup)."""

    def __init__(self, net: NetworkSettings):
        self.net = net

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[Any]:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM, family=family)
        except UnicodeError:
            raise OSError(f"bad host name {host!r}") from None  # aiohttp: a DNS error
        out, seen = [], set()
        for fam, _, proto, _, address in infos:
            ip = str(address[0])
            if fam == socket.AF_INET6 and len(address) > 3 and address[3]:
                ip = f"{ip}%{address[3]}"  # a link-local address keeps its scope
            if (ip, address[1]) not in seen:
                seen.add((ip, address[1]))
                out.append({"hostname": host, "host": ip, "port": int(address[1]), "family": fam, "proto": proto,
                            "flags": socket.AI_NUMERICHOST | socket.AI_NUMERICSERV})
        if not out:
            raise OSError(f"no address for {host!r}")
        check_addresses((r["host"] for r in out), self.net)
        return out

    async def close(self) -> None:
        pass


def _guarded_socket(net: NetworkSettings) -> Callable[[Any], socket.socket]:
    """aiohttp's socket factory: the address about to be connected is checked once more. This is the
    check for IP-literal hosts (aiohttp does not ask the resolver about those) and a second lock on
    every other connect."""

    def make(addr_info: Any) -> socket.socket:
        family, type_, proto, _, address = addr_info
        check_addresses((str(address[0]),), net)
        return socket.socket(family=family, type=type_, proto=proto)

    return make


class AsyncClient:
    """The feed poller's HTTP client: an aiohttp session behind the connect-time guard (see the module
    doc); use it with ``afetch``. Make it inside a running event loop (aiohttp's connector needs one);
    ``aclose`` it (or ``async with``) on that loop."""

    def __init__(self, net: NetworkSettings, *, verify: ssl.SSLContext | bool = True):
        if verify is True:  # the trust store httpx uses (certifi): feeds and pages verify against the same CAs
            import certifi

            verify = ssl.create_default_context(cafile=certifi.where())
        connector = aiohttp.TCPConnector(
            limit=max(net.concurrency, 10), resolver=_GuardedResolver(net), socket_factory=_guarded_socket(net),
            happy_eyeballs_delay=None,  # the addresses in order, one at a time, as the sync client does
            ssl=verify)
        self.net = net
        self.session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False,  # raw bytes: monitor.decode inflates them, bounded
            trust_env=False,  # an environment proxy would bypass the connect-time guard
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=net.timeout, sock_read=net.timeout),
            headers={"User-Agent": net.user_agent, "Accept-Encoding": "gzip, deflate, br"},
            max_line_size=16384, max_field_size=16384)  # h11's (httpx's) 16 KiB, not aiohttp's 8 KiB

    async def aclose(self) -> None:
        await self.session.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _install(transport: Any, backend: Any) -> Any:
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore.ConnectionPool | httpcore.AsyncConnectionPool) \
            or not hasattr(pool, "_network_backend"):
        raise RuntimeError("httpx/httpcore internals changed: cannot install the guarded network backend")
    pool._network_backend = backend
    return transport


def _client_options(net: NetworkSettings) -> dict[str, Any]:
    return {
        "follow_redirects": False,
        "timeout": net.timeout,
        "headers": {"User-Agent": net.user_agent, "Accept-Encoding": "gzip, deflate, br"},
        "trust_env": False,  # an environment proxy would bypass the connect-time guard
    }


def make_client(net: NetworkSettings, *, verify: ssl.SSLContext | bool = True) -> httpx.Client:
    limits = httpx.Limits(max_connections=max(net.concurrency, 10))
    transport = _install(httpx.HTTPTransport(limits=limits, verify=verify), GuardedBackend(net))
    return httpx.Client(transport=transport, **_client_options(net))


def make_async_client(net: NetworkSettings, *, verify: ssl.SSLContext | bool = True) -> AsyncClient:
    """The poller's client (aiohttp, guarded); call it inside a running event loop."""
    return AsyncClient(net, verify=verify)


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


def _caused_by(e: BaseException, kinds: type[BaseException] | tuple[type[BaseException], ...]) -> bool:
    seen = 0
    cur: BaseException | None = e
    while cur is not None and seen < 10:
        if isinstance(cur, kinds):
            return True
        cur, seen = cur.__cause__ or cur.__context__, seen + 1
    return False


@contextlib.contextmanager
def _mapped(url: str) -> Iterator[None]:
    """httpx's failures -> our error tree."""
    where = safe_url(url)
    try:
        yield
    except ForbiddenAddress as e:  # from the connect-time check
        raise ForbiddenAddress(f"{where}: {e}") from None
    except httpx.TimeoutException as e:
        if _caused_by(e, _DeadlineExceeded) or _expired():
            raise TransientError(f"{where}: gave up after the {_budget()} deadline (server too slow)",
                                 kind="deadline") from None
        raise TransientError(f"timeout fetching {where}", kind="timeout") from None
    except httpx.TransportError as e:
        if _caused_by(e, _ResolveFailed):
            raise TransientError(f"cannot resolve {where}", kind="dns") from None
        if _caused_by(e, ssl.SSLError):
            reason = next((str(x.reason) for x in _chain(e) if isinstance(x, ssl.SSLError) and x.reason), "")
            raise TransientError(f"TLS error fetching {where}: {reason or 'handshake failed'}", kind="tls") from None
        raise TransientError(f"{type(e).__name__} fetching {where}", kind="network") from None
    except httpx.InvalidURL:
        raise PermanentError(f"bad URL {where}", kind="bad_url") from None
    except TimeoutError:  # the async safety net around a whole fetch
        raise TransientError(f"{where}: gave up after the {_budget()} deadline", kind="deadline") from None


def _chain(e: BaseException) -> Iterator[BaseException]:
    cur: BaseException | None = e
    for _ in range(10):
        if cur is None:
            return
        yield cur
        cur = cur.__cause__ or cur.__context__


_BUDGET: ContextVar[float] = ContextVar("claimwatch_fetch_budget", default=0.0)


def _budget() -> str:
    return f"{_BUDGET.get():g} s"


def _expired() -> bool:
    deadline = _DEADLINE.get()
    return deadline is not None and time.monotonic() >= deadline


@contextlib.contextmanager
def _deadline(net: NetworkSettings) -> Iterator[float]:
    t1 = _DEADLINE.set(time.monotonic() + net.fetch_deadline)
    t2 = _BUDGET.set(net.fetch_deadline)
    try:
        yield net.fetch_deadline
    finally:
        _DEADLINE.reset(t1)
        _BUDGET.reset(t2)


# --------------------------------------------------------------------------- the I/O loops


def fetch(client: httpx.Client, url: str, net: NetworkSettings, *, max_bytes: int,
          headers: Mapping[str, str] | None = None) -> Response:
    hops = _Hops(url, net.max_redirects)
    with _deadline(net):
        while True:
            guard(hops.url, net)
            with _mapped(hops.url), client.stream("GET", hops.url, headers=_request_headers(headers)) as r:
                target = _redirect(hops.url, r.status_code, r.headers)
                if target is None:
                    if err := _status_error(r.status_code, r.headers, hops.url):
                        raise err
                    body = Body(safe_url(hops.url), r.headers, max_bytes)
                    for raw in r.iter_raw():
                        body.feed(raw)
                    return _response(hops.url, r, body)
            hops.follow(target)


async def afetch(client: AsyncClient | httpx.AsyncClient, url: str, net: NetworkSettings, *, max_bytes: int,
                 headers: Mapping[str, str] | None = None) -> Response:
    """``fetch`` on the event loop. ``client``: ``make_async_client``'s (guarded at connect time), or an
    httpx.AsyncClient of the caller's (each hop is then checked by ``aguard`` before it is requested)."""
    if isinstance(client, httpx.AsyncClient):
        return await _afetch_httpx(client, url, net, max_bytes=max_bytes, headers=headers)
    hops = _Hops(url, net.max_redirects)
    sent = _request_headers(headers)
    budget = net.fetch_deadline
    try:
        async with asyncio.timeout(budget) as deadline:  # the whole fetch, redirects included
            while True:
                _target(hops.url)  # scheme and host; the addresses are checked at connect time, every hop
                try:
                    async with client.session.get(hops.url, headers=sent, allow_redirects=False) as r:
                        target = _redirect(hops.url, r.status, r.headers)
                        if target is None:
                            if err := _status_error(r.status, r.headers, hops.url):
                                raise err
                            if r.status == 304:
                                return Response(hops.url, 304, _merged(r.headers), b"")
                            body = Body(safe_url(hops.url), r.headers, max_bytes)
                            async for raw in r.content.iter_any():
                                body.feed(raw)
                            return Response(hops.url, r.status, _merged(r.headers), body.finish())
                except (aiohttp.ClientError, ValueError, TimeoutError, ForbiddenAddress) as e:
                    if deadline.expired():
                        raise TimeoutError from None
                    raise _aiohttp_error(hops.url, e) from None
                hops.follow(target)
    except TimeoutError:
        raise TransientError(f"{safe_url(hops.url)}: gave up after the {budget:g} s deadline (server too slow)",
                             kind="deadline") from None


def _merged(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-cased names; a repeated header's values joined with ", " (as httpx does)."""
    out: dict[str, str] = {}
    for k, v in headers.items():
        k = k.lower()
        out[k] = f"{out[k]}, {v}" if k in out else v
    return out


def _aiohttp_error(url: str, e: BaseException) -> ClaimwatchError:
    """aiohttp's failures -> our error tree (``_mapped`` for the httpx clients)."""
    where = safe_url(url)
    if isinstance(e, ForbiddenAddress):  # from the resolver or the socket factory
        return ForbiddenAddress(f"{where}: {e}")
    if isinstance(e, aiohttp.ClientConnectorDNSError):
        return TransientError(f"cannot resolve {where}", kind="dns")
    if isinstance(e, aiohttp.ClientSSLError) or _caused_by(e, ssl.SSLError):
        chain = [*_chain(e), getattr(e, "certificate_error", None), getattr(e, "os_error", None)]
        reason = next((str(x.reason) for x in chain if isinstance(x, ssl.SSLError) and getattr(x, "reason", None)), "")
        return TransientError(f"TLS error fetching {where}: {reason or 'handshake failed'}", kind="tls")
    if isinstance(e, TimeoutError):  # aiohttp's own: one connect or one read over ``timeout``
        return TransientError(f"timeout fetching {where}", kind="timeout")
    if isinstance(e, aiohttp.InvalidURL | ValueError):
        return PermanentError(f"bad URL {where}", kind="bad_url")
    return TransientError(f"{type(e).__name__} fetching {where}", kind="network")


async def _afetch_httpx(client: httpx.AsyncClient, url: str, net: NetworkSettings, *, max_bytes: int,
                        headers: Mapping[str, str] | None = None) -> Response:
    hops = _Hops(url, net.max_redirects)
    with _deadline(net) as budget:
        try:
            async with asyncio.timeout(budget):
                while True:
                    await aguard(hops.url, net)
                    with _mapped(hops.url):
                        async with client.stream("GET", hops.url, headers=_request_headers(headers)) as r:
                            target = _redirect(hops.url, r.status_code, r.headers)
                            if target is None:
                                if err := _status_error(r.status_code, r.headers, hops.url):
                                    raise err
                                body = Body(safe_url(hops.url), r.headers, max_bytes)
                                async for raw in r.aiter_raw():
                                    body.feed(raw)
                                return _response(hops.url, r, body)
                    hops.follow(target)
        except TimeoutError:
            raise TransientError(f"{safe_url(hops.url)}: gave up after the {budget:g} s deadline",
                                 kind="deadline") from None


def _response(url: str, r: httpx.Response, body: Body) -> Response:
    data = body.finish()
    return Response(url, r.status_code, {k.lower(): v for k, v in r.headers.items()},
                    b"" if r.status_code == 304 else data)
