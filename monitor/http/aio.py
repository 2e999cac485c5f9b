"""The feed poller's client: an aiohttp session behind the same connect-time guard as the sync client.

aiohttp because the poller's 304 path is mostly HTTP overhead: about 0.07 ms CPU per conditional GET
against 1.3-1.5 ms for httpx/httpcore's async pool (benchmarks/polling.py). The guard goes in through
aiohttp's public hooks, ``TCPConnector(resolver=..., socket_factory=...)``:

- ``GuardedResolver``: one lookup per connection; ForbiddenAddress if ANY address of the name is
  forbidden; aiohttp then connects to these very addresses (no second lookup);
- the socket factory checks the one address about to be connected: the check for IP-literal hosts
  (aiohttp does not ask the resolver about those) and a second lock on every other connect.

Make an ``AsyncClient`` inside a running event loop (aiohttp's connector needs one) and ``aclose`` it
(or ``async with``) on that loop.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable
from typing import Any

import aiohttp
import aiohttp.abc

from monitor.http.guard import check_addresses
from monitor.settings import NetworkSettings


class GuardedResolver(aiohttp.abc.AbstractResolver):
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
    def make(addr_info: Any) -> socket.socket:
        family, type_, proto, _, address = addr_info
        check_addresses((str(address[0]),), net)
        return socket.socket(family=family, type=type_, proto=proto)

    return make


class AsyncClient:
    """An aiohttp session behind the connect-time guard; use it with ``fetch.afetch``."""

    def __init__(self, net: NetworkSettings, *, verify: ssl.SSLContext | bool = True):
        if verify is True:  # the trust store httpx uses (certifi): feeds and pages verify against the same CAs
            import certifi

            verify = ssl.create_default_context(cafile=certifi.where())
        connector = aiohttp.TCPConnector(
            limit=max(net.concurrency, 10), resolver=GuardedResolver(net), socket_factory=_guarded_socket(net),
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


def make_async_client(net: NetworkSettings, *, verify: ssl.SSLContext | bool = True) -> AsyncClient:
    """The poller's client (aiohttp, guarded); call it inside a running event loop."""
    return AsyncClient(net, verify=verify)
