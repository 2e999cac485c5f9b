"""The only place that does outbound HTTP.

- ``guard``: the SSRF guard, one decision per address (``forbidden``), checked at connect time on
  the resolved address by both clients, on every redirect hop;
- ``deadline``: one total deadline per fetch (a server trickling a byte a second is cut off);
- ``transport``: the sync client (pages, webhooks, ``check``): httpx over a guarded httpcore pool,
  plugged in through httpx's public ``transport=`` hook;
- ``aio``: the poller's async client: aiohttp with a guarded resolver and socket factory;
- ``fetch``: ``fetch`` (sync) and ``afetch`` (async), the same loop over the two clients, and
  ``post`` for the sinks;
- ``outcomes``: one table from HTTP statuses and library exceptions to ``monitor.errors``;
- ``headers``: ``Retry-After``, cache lifetime and HTTP dates, read once for everyone;
- ``urls``: what a message may show of a URL (``safe_url``), redirect targets, hops.

Kinds of errors: ``timeout`` (one read), ``deadline`` (the whole fetch), ``dns``, ``tls``,
``network``, ``forbidden_address``, ``bad_url``, ``redirect_loop``, ``too_many_redirects``,
``http_404``, ``http_410``, ``http_429``, ``http_503``, ``http_5xx``, ``http_3xx``, ``http_4xx``.
"""

from monitor.http.aio import AsyncClient, make_async_client
from monitor.http.fetch import Response, afetch, fetch, post
from monitor.http.guard import check_addresses, forbidden, guard
from monitor.http.headers import cache_max_age, parse_retry_after
from monitor.http.outcomes import status_error
from monitor.http.transport import GuardedTransport, make_client
from monitor.http.urls import safe_url

__all__ = [
    "AsyncClient", "GuardedTransport", "Response", "afetch", "cache_max_age", "check_addresses", "fetch", "forbidden",
    "guard", "make_async_client", "make_client", "parse_retry_after", "post", "safe_url", "status_error",
]
