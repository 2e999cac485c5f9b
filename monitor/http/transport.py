"""The sync client (article pages, webhook POSTs, ``check``): httpx over a guarded httpcore pool.

httpx's ``HTTPTransport`` takes no network backend (encode/httpx#3749 proposes one; not released),
so this module builds the transport from public parts instead of patching the pool inside
``HTTPTransport``: ``GuardedTransport`` is an ``httpx.BaseTransport`` (httpx's documented hook,
``httpx.Client(transport=...)``) over an ``httpcore.ConnectionPool`` whose ``network_backend`` is
``GuardedBackend``, an ``httpcore.NetworkBackend`` (httpcore's documented extension point).

``GuardedBackend`` resolves the host once, checks every address (``guard.check_addresses``) and
connects to a checked one (TLS SNI and the Host header keep the name): no DNS-rebinding window.
Every connect, read and write is clamped to the fetch's deadline (``deadline.remaining``).

httpcore's exceptions pass through the transport as they are: ``fetch`` and ``post`` read them
through ``outcomes.LIBRARY_ERRORS``, with the URL or label they may show.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx

from monitor.http.deadline import remaining
from monitor.http.guard import addresses, check_addresses
from monitor.http.outcomes import ResolveFailed
from monitor.settings import NetworkSettings


class _Stream(httpcore.NetworkStream):
    """A network stream whose every operation ends by the fetch's deadline."""

    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, remaining(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, remaining(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Resolve once, check every address, connect to a checked address; deadline-clamped I/O."""

    def __init__(self, net: NetworkSettings):
        self.net, self._inner = net, httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        try:
            found = addresses(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except (OSError, UnicodeError) as e:
            raise ResolveFailed(f"cannot resolve: {type(e).__name__}") from None
        if not found:
            raise ResolveFailed("no address")
        check_addresses(found, self.net)  # ANY forbidden address refuses the name
        error: Exception | None = None
        for address in found:  # in resolver order, as a plain client would
            try:
                stream = self._inner.connect_tcp(address, port, remaining(timeout), local_address, socket_options)
                return _Stream(stream)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                error = e
        raise error  # type: ignore[misc]

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _Body(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]):
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class GuardedTransport(httpx.BaseTransport):
    """httpx's transport API over a connection pool that connects through ``GuardedBackend``."""

    def __init__(self, net: NetworkSettings, *, verify: ssl.SSLContext | bool = True):
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify),  # certifi's CAs, as httpx's own transport
            max_connections=max(net.concurrency, 10), keepalive_expiry=5.0,
            network_backend=GuardedBackend(net))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        url = request.url
        response = self._pool.handle_request(httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
            headers=request.headers.raw, content=request.stream, extensions=request.extensions))
        assert isinstance(response.stream, Iterable)
        return httpx.Response(status_code=response.status, headers=response.headers, stream=_Body(response.stream),
                              extensions=response.extensions)

    def close(self) -> None:
        self._pool.close()


def make_client(net: NetworkSettings, *, verify: ssl.SSLContext | bool = True) -> httpx.Client:
    """The sync client: guarded at connect time, no redirects of its own (``fetch`` follows them, each
    hop checked), environment proxies ignored (a proxy would be the only address checked)."""
    return httpx.Client(
        transport=GuardedTransport(net, verify=verify), follow_redirects=False, timeout=net.timeout,
        headers={"User-Agent": net.user_agent, "Accept-Encoding": "gzip, deflate, br"}, trust_env=False)
