"""The SSRF guard: which addresses the service may connect to.

``forbidden`` is the one decision. An address is refused when it is loopback, private, link-local,
site-local, CGNAT (100.64.0.0/10), multicast, reserved, unspecified or otherwise not global, unless
an ``allow_networks`` CIDR holds it. An IPv6 address that carries an IPv4 address is judged by that
one too, since the packet ends up there:

- IPv4-mapped ``::ffff:a.b.c.d`` and NAT64 ``64:ff9b::/96`` (RFC 6052): by the IPv4 address alone
  (so an IPv6-only host behind DNS64 still reaches public IPv4 sites);
- 6to4 ``2002::/16`` (``2002:7f00:1::`` is 127.0.0.1 through a relay) and Teredo ``2001::/32``
  (server and client): by the IPv6 address AND the IPv4 ones;
- the local-use NAT64 prefix ``64:ff9b:1::/48`` (RFC 8215) is not global, so it is refused unless
  allowed; when allowed, its last 32 bits (the /96 layout) are judged as well.

Clients check at connect time (``transport.GuardedBackend``, ``aio``): the host is resolved once,
every address is checked, and the socket connects to a checked address, so there is no
DNS-rebinding window. ``guard`` checks a URL before a request as well (the sync fetch, per hop).
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

from monitor.errors import ForbiddenAddress, PermanentError, TransientError
from monitor.http.urls import safe_url, target
from monitor.settings import NetworkSettings

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


@functools.lru_cache(maxsize=32)
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def _low32(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)


def identities(ip: IP) -> list[IP]:
    """The addresses a connection to ``ip`` reaches: itself and the IPv4 addresses it embeds."""
    if isinstance(ip, ipaddress.IPv4Address):
        return [ip]
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip in _NAT64:
        return [_low32(ip)]
    out: list[IP] = [ip]
    if ip.sixtofour is not None:
        out.append(ip.sixtofour)
    if ip.teredo is not None:
        out.extend(ip.teredo)
    if ip in _NAT64_LOCAL:
        out.append(_low32(ip))
    return out


def _not_public(ip: IP) -> bool:
    return (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified or not ip.is_global or (ip.version == 4 and ip in _CGNAT)
            or (ip.version == 6 and ip.is_site_local))


def forbidden(address: str, allowed: Iterable[str] = ()) -> bool:
    """True when ``address`` (or an address it embeds) is not public and no ``allowed`` CIDR holds it."""
    nets = _networks(tuple(allowed))
    for ip in identities(ipaddress.ip_address(address.split("%", 1)[0])):
        if _not_public(ip) and not any(ip in n for n in nets if n.version == ip.version):
            return True
    return False


def check_addresses(addresses: Iterable[str], net: NetworkSettings) -> None:
    """ForbiddenAddress if ANY address is forbidden. The message names the address, never a URL
    (it may reach a webhook's log)."""
    if net.allow_private_addresses:
        return
    for a in addresses:
        if forbidden(a, net.allow_networks):
            raise ForbiddenAddress(f"refused to connect to {a}: not a public address")


def addresses(infos: Iterable[Any]) -> list[str]:
    """The distinct addresses of ``getaddrinfo`` answers, in resolver order."""
    return list(dict.fromkeys(str(i[4][0]) for i in infos))


def guard(url: str, net: NetworkSettings) -> None:
    """Check ``url`` before a request: its scheme and host, and every address its host resolves to."""
    host, port = target(url)
    if net.allow_private_addresses:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as e:
        raise TransientError(f"{safe_url(url)}: cannot resolve the host ({e.strerror or e})", kind="dns") from None
    except UnicodeError:
        raise PermanentError(f"bad host name in {safe_url(url)}", kind="bad_url") from None
    try:
        check_addresses(addresses(infos), net)
    except ForbiddenAddress as e:
        raise ForbiddenAddress(f"{safe_url(url)}: {e}") from None
