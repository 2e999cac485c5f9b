"""URLs as the fetchers see them: what a message may show of one, where a request goes, where a
redirect points, and the hops of one fetch (loops refused, at most ``max_redirects``).

Redirects are followed here, by hand, never by a client: each hop is a new request that passes the
SSRF guard again (``monitor.http.guard``) before a byte leaves.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urljoin, urlsplit

from monitor.errors import ForbiddenAddress, PermanentError

REDIRECTS = frozenset({301, 302, 303, 307, 308})


def safe_url(url: str) -> str:
    """``scheme://host/path`` only: what a log line or error message may show of a URL (no
    credentials, no query: feed URLs carry API keys there)."""
    try:
        p = urlsplit(url)
        return f"{p.scheme}://{p.netloc.rsplit('@', 1)[-1].lower()}{p.path}"
    except ValueError:
        return "<bad url>"


def target(url: str) -> tuple[str, int]:
    """(host, port) a request to ``url`` connects to; only http(s) URLs with a host are fetched."""
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


def redirect_target(url: str, status: int, headers: Mapping[str, str]) -> str | None:
    """The absolute URL a redirect response points to (fragment dropped), or None when it is not one."""
    location = headers.get("location")
    if status not in REDIRECTS or not location:
        return None
    return urljoin(url, location.strip()).split("#", 1)[0]


class Hops:
    """Where the next request of one fetch goes; refuses loops and more than ``limit`` redirects."""

    def __init__(self, url: str, limit: int):
        self.url, self.limit, self.seen = url, limit, {url}

    def follow(self, to: str) -> None:
        if to in self.seen:
            raise PermanentError(f"redirect loop at {safe_url(to)}", kind="redirect_loop")
        if len(self.seen) > self.limit:
            raise PermanentError(f"more than {self.limit} redirects from {safe_url(self.url)}",
                                 kind="too_many_redirects")
        self.seen.add(to)
        self.url = to
