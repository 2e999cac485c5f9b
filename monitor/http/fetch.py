"""The requests themselves: ``fetch`` (sync: article pages, ``check``), ``afetch`` (async: the feed
poller) and ``post`` (sync: the sinks' webhooks).

``fetch`` and ``afetch`` are the same loop over two clients: redirects followed by hand (each hop
checked, loops refused, at most ``max_redirects``); the body streamed RAW and inflated in bounded
steps (``monitor.decode.Body``); one total deadline for the whole fetch (``deadline``); statuses and
library failures read through the one table (``outcomes``). Only the I/O calls differ. The sync
loop also checks each hop's URL before asking (``guard``): a client not made by ``make_client`` is
still refused a forbidden host.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from monitor.decode import Body
from monitor.errors import ForbiddenAddress, PermanentError
from monitor.http.aio import AsyncClient
from monitor.http.deadline import Deadline, running
from monitor.http.guard import guard
from monitor.http.headers import merged
from monitor.http.outcomes import error_for, status_error
from monitor.http.urls import Hops, redirect_target, safe_url, target
from monitor.settings import NetworkSettings

POST_BODY_READ = 64 * 1024  # bytes of a POST's response read (a chat API's error says when to retry)


@dataclass(frozen=True)
class Response:
    url: str  # final URL after redirects
    status: int  # 200..299 or 304
    headers: dict[str, str]  # lower-cased names
    body: bytes  # decompressed; b"" for 304


@contextmanager
def _mapped(where: str, deadline: Deadline | None = None) -> Iterator[None]:
    """A library's failure -> the error tree (``outcomes.error_for``); our own errors pass unchanged."""
    try:
        yield
    except Exception as e:
        error = error_for(e, where, deadline)
        if error is None:
            raise
        raise error from None


def _sent(extra: Mapping[str, str] | None) -> dict[str, str]:
    return {k: v for k, v in (extra or {}).items() if v}


def _checked(url: str, status: int, headers: Mapping[str, str]) -> None:
    """Raise what a final status other than 2xx/304 means."""
    if status != 304 and (error := status_error(status, headers, f"HTTP {status} from {safe_url(url)}")):
        raise error


def fetch(client: httpx.Client, url: str, net: NetworkSettings, *, max_bytes: int,
          headers: Mapping[str, str] | None = None, deadline: float | None = None) -> Response:
    """GET ``url`` with ``make_client``'s client; ``deadline`` seconds in all (``net.fetch_deadline``)."""
    hops = Hops(url, net.max_redirects)
    with running(deadline or net.fetch_deadline) as d:
        while True:
            guard(hops.url, net)
            where = safe_url(hops.url)
            with _mapped(where, d), client.stream("GET", hops.url, headers=_sent(headers)) as r:
                to = redirect_target(hops.url, r.status_code, r.headers)
                if to is None:
                    _checked(hops.url, r.status_code, r.headers)
                    body = Body(where, r.headers, max_bytes)
                    if r.status_code != 304:
                        for raw in r.iter_raw():
                            body.feed(raw)
                    return Response(hops.url, r.status_code, merged(r.headers.multi_items()), body.finish())
            hops.follow(to)


async def afetch(client: AsyncClient, url: str, net: NetworkSettings, *, max_bytes: int,
                 headers: Mapping[str, str] | None = None, deadline: float | None = None) -> Response:
    """``fetch`` on the event loop, with ``make_async_client``'s client."""
    hops = Hops(url, net.max_redirects)
    d = Deadline(deadline or net.fetch_deadline)
    sent = _sent(headers)
    try:
        async with asyncio.timeout(d.seconds):  # the whole fetch, redirects included
            while True:
                target(hops.url)  # scheme and host; the addresses are checked at connect time, every hop
                where = safe_url(hops.url)
                with _mapped(where, d):
                    async with client.session.get(hops.url, headers=sent, allow_redirects=False) as r:
                        to = redirect_target(hops.url, r.status, r.headers)
                        if to is None:
                            _checked(hops.url, r.status, r.headers)
                            if r.status == 304:
                                return Response(hops.url, 304, merged(r.headers.items()), b"")
                            body = Body(where, r.headers, max_bytes)
                            async for raw in r.content.iter_any():
                                body.feed(raw)
                            return Response(hops.url, r.status, merged(r.headers.items()), body.finish())
                hops.follow(to)
    except TimeoutError:  # the deadline cancelled the request mid-way
        raise d.error(safe_url(hops.url)) from None


def post(client: httpx.Client, url: str, body: bytes, headers: Mapping[str, str], *, timeout: float,
         where: str) -> httpx.Response:
    """POST ``body`` to ``url`` (no redirects followed: only ``url`` passed the guard); the response
    on 2xx, else the table's error. ``where`` names the target in messages (webhook URLs are secrets:
    a label such as "webhook sink 0", never the URL nor the address it resolved to)."""
    try:
        with client.stream("POST", url, content=body, headers=dict(headers), timeout=timeout,
                           follow_redirects=False) as r:
            answer = _read_some(r, where)
    except Exception as e:
        error = error_for(e, where)
        if error is None:
            raise
        if isinstance(error, ForbiddenAddress):
            error = ForbiddenAddress(f"{where}: refused to connect: the target is not a public address")
        raise error from None
    if error := status_error(r.status_code, r.headers, f"{where}: HTTP {r.status_code}", body=answer):
        raise error
    return r


def _read_some(r: httpx.Response, where: str) -> bytes | None:
    """The start of a response's body (decoded, bounded), or None when it is too big to matter."""
    if r.is_stream_consumed:  # a transport that holds the whole response already (httpx.MockTransport)
        return r.content[:POST_BODY_READ]
    try:
        body = Body(where, r.headers, POST_BODY_READ)
        for raw in r.iter_raw():
            body.feed(raw)
        return body.finish()
    except PermanentError:
        return None
