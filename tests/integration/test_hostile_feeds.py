"""Hostile feeds through the poller (real Redis, loopback servers): each is counted by kind, logged
with its reason, saved on the feed and backed off, and a good feed polled alongside still delivers.

Cases test_poller.py already covers (HTML instead of a feed, 5xx, 429 with Retry-After, 404/410, an
empty or truncated body) are not repeated here.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import logging
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

import brotli
import pytest
import redis
from localserver import QuietHandler, serving
from probes import due_after, due_within

from monitor.models import Entry
from monitor.poller import Poller
from monitor.settings import Settings, from_dict
from monitor.store import Store

NOW = time.time()
GOOD = (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Good</title>'
        b'<item><guid isPermaLink="false">good-1</guid><link>https://good.test/kursk-1</link>'
        b'<title>Kursk bridge closed</title>'
        b'<pubDate>Tue, 07 May 2024 10:00:00 GMT</pubDate></item></channel></rss>')
Route = Callable[[BaseHTTPRequestHandler], None]


def reply(status: int, body: bytes = b"", **headers: str) -> Route:
    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k.replace("_", "-"), v)
        if "Content_Length" not in headers and "Transfer_Encoding" not in headers:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return route


def trickle(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Length", "100000")
    h.end_headers()
    for _ in range(100):
        h.wfile.write(b"<")
        h.wfile.flush()
        time.sleep(0.1)


def flood(h: BaseHTTPRequestHandler) -> None:  # 50 MB, chunked, no Content-Length
    h.send_response(200)
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    chunk = b"<item>" + b"x" * 65530
    for _ in range(800):
        h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    h.wfile.write(b"0\r\n\r\n")


@contextmanager
def hostile_server(routes: dict[str, Route]) -> Iterator[str]:
    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            route = routes.get(self.path.split("?", 1)[0], reply(404))
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                route(self)

    with serving(Handler, quiet_errors=True) as base:
        yield base


def settings(base: str, paths: list[str], **network: Any) -> Settings:
    return from_dict({
        "service": {"poll_interval": 60, "max_backoff": 3600, "feed_lease": 30},
        "network": {"allow_private_addresses": True, "timeout": 2, "fetch_deadline": 1.5,
                    "max_feed_bytes": 1_000_000, **network},
        "watches": [{"name": "kursk", "keywords": ["Kursk", "Курск*"], "seed": []}],
        "feeds": [{"url": p if "://" in p else base + p, "name": p.rsplit("/", 1)[-1]} for p in paths],
    })


def poll(s: Settings, store: Store, sink: list[Entry]) -> None:
    p = Poller(s, store, sink.append, ident="hostile", clock=lambda: NOW)
    p.sync_feeds()

    async def once() -> None:
        try:
            await p.poll_due()
        finally:
            await p.aclose()

    asyncio.run(once())


BOMB = b"\0" * 60_000_000
CASES: dict[str, tuple[Route, str]] = {
    "/malformed.xml": (reply(200, b"<<<?xml garbage &&& <rss><channel></item>", Content_Type="text/xml"),
                       "not_a_feed"),
    "/gzip-bomb.xml": (reply(200, gzip.compress(BOMB, 9), Content_Encoding="gzip"), "too_large"),
    "/brotli-bomb.xml": (reply(200, brotli.compress(BOMB, quality=5), Content_Encoding="br"), "too_large"),
    "/huge.xml": (flood, "too_large"),
    "/loop.xml": (reply(302, Location="/loop2.xml"), "redirect_loop"),
    "/loop2.xml": (reply(302, Location="/loop.xml"), "redirect_loop"),
    "/trickle.xml": (trickle, "deadline"),
    "/unavailable.xml": (reply(503, Retry_After="900"), "http_503"),
    "/bad-encoding.xml": (reply(200, b"not gzip", Content_Encoding="gzip"), "bad_encoding"),
}


def test_hostile_feeds_are_counted_logged_backed_off_and_the_good_feed_still_delivers(
        redis_client: redis.Redis, caplog: pytest.LogCaptureFixture) -> None:
    store, sink = Store(redis_client), []
    routes = {path: route for path, (route, _) in CASES.items()} | {"/good.xml": reply(200, GOOD)}
    with socket.socket() as s:  # a port nobody listens on, for https: the TLS handshake fails
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    with hostile_server(routes) as base:
        hostile = [p for p in CASES if p != "/loop2.xml"]
        tls = base.replace("http://", "https://") + "/tls.xml"  # https to a plain-HTTP server
        dns = "http://feeds.nowhere.invalid/rss.xml"
        refused = f"http://127.0.0.1:{closed}/rss.xml"
        s = settings(base, ["/good.xml", *hostile, tls, dns, refused])
        caplog.set_level(logging.WARNING, logger="monitor.feed_poll")
        started = time.monotonic()
        poll(s, store, sink)
        elapsed = time.monotonic() - started

    assert [e.guid for e in sink] == ["good-1"]
    assert elapsed < 10, elapsed  # the trickler is cut at its deadline; the rest fail fast
    stats = store.metrics.stats()
    expected = {base + p: kind for p, (_, kind) in CASES.items() if p != "/loop2.xml"}
    expected |= {tls: "tls", dns: "dns", refused: "network"}
    for url, kind in expected.items():
        state = store.feeds.state(url)
        assert state["errors"] == "1" and state["last_error"].startswith(f"{kind}: "), (url, state)
        assert due_after(store, url, NOW + 60), url  # backed off beyond the interval
        assert stats[f"feed_error:{kind}"] >= 1
        assert any(url.rsplit("/", 1)[-1] in r.getMessage() and kind in r.getMessage() for r in caplog.records), url
    assert due_within(store, base + "/unavailable.xml", NOW + 900)  # Retry-After honoured
    assert store.feeds.state(base + "/good.xml")["errors"] == "0"


def test_feed_of_many_items_is_read_up_to_the_cap(redis_client: redis.Redis) -> None:
    items = "".join(f"<item><guid isPermaLink='false'>n{i}</guid><link>https://n.test/{i}</link>"
                    f"<title>Kursk {i}</title></item>" for i in range(10_000))
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>{items}</channel></rss>'.encode()
    store, sink = Store(redis_client), []
    with hostile_server({"/big.xml": reply(200, body, Content_Type="application/rss+xml")}) as base:
        poll(settings(base, ["/big.xml"], max_feed_items=300, max_feed_bytes=20_000_000), store, sink)
    assert len(sink) == 300 and sink[0].guid == "n0"
    assert store.metrics.stats()["feed_items_dropped"] == 9_700
    assert store.feeds.state(base + "/big.xml")["errors"] == "0"


def test_charsets_wrong_or_missing_still_give_entries(redis_client: redis.Redis) -> None:
    cyrillic = ('<?xml version="1.0" encoding="windows-1251"?><rss version="2.0"><channel><title>Т</title>'
                '<item><guid isPermaLink="false">c1</guid><link>https://c.test/1</link>'
                '<title>Курская область: обстрел</title></item>'
                '</channel></rss>').encode("cp1251")
    no_decl = ('<rss version="2.0"><channel><title>T</title><item><guid isPermaLink="false">c2</guid>'
               '<link>https://c.test/2</link><title>Kursk: à la une</title></item></channel></rss>').encode()
    store, sink = Store(redis_client), []
    routes = {"/lies.xml": reply(200, cyrillic, Content_Type="application/rss+xml; charset=utf-8"),  # header lies
              "/bare.xml": reply(200, no_decl)}  # no Content-Type, no XML declaration
    with hostile_server(routes) as base:
        poll(settings(base, ["/lies.xml", "/bare.xml"]), store, sink)
    titles = {e.guid: e.title for e in sink}
    assert set(titles) == {"c1", "c2"} and "Курск" in titles["c1"] and titles["c2"] == "Kursk: à la une"


def test_entries_without_links_guids_or_dates_and_guids_shared_across_feeds(redis_client: redis.Redis) -> None:
    a = (b'<rss version="2.0"><channel><title>A</title>'
         b'<item><guid isPermaLink="false">1</guid><link>https://a.test/one</link><title>Kursk one</title></item>'
         b'<item><guid isPermaLink="false">2</guid><title>Kursk: a wire flash with no link</title>'
         b'<description>Kursk governor says a drone fell on a farm.</description></item>'
         b'<item><title>Kursk: neither link nor guid nor date</title></item>'
         b'<item><description>   </description></item>'  # nothing at all to identify it
         b'</channel></rss>')
    b = (b'<rss version="2.0"><channel><title>B</title>'  # the same GUIDs, other articles
         b'<item><guid isPermaLink="false">1</guid><link>https://b.test/uno</link><title>Kursk uno</title></item>'
         b'<item><guid isPermaLink="false">2</guid><link>https://a.test/one?utm_source=b</link>'
         b'<title>Kursk one again</title></item>'  # ... but this one is feed A's article: one entry
         b'</channel></rss>')
    store, sink = Store(redis_client), []
    with hostile_server({"/a.xml": reply(200, a), "/b.xml": reply(200, b)}) as base:
        s = settings(base, ["/a.xml", "/b.xml"])
        poll(s, store, sink)
        by_title = {e.title: e for e in sink}
        # feed A's article also in feed B (another GUID, a tracking parameter): one entry, from whichever
        # feed's poll got there first (the two are polled concurrently)
        shared = [t for t in by_title if t in ("Kursk one", "Kursk one again")]
        assert len(shared) == 1 and by_title[shared[0]].url == "https://a.test/one"
        assert sorted(set(by_title) - set(shared)) == ["Kursk uno", "Kursk: a wire flash with no link",
                                                       "Kursk: neither link nor guid nor date"]
        flash = by_title["Kursk: a wire flash with no link"]
        assert flash.link == "" and flash.url.startswith(base + "/a.xml#entry-") and flash.published is None
        bare = by_title["Kursk: neither link nor guid nor date"]
        assert bare.guid.startswith("hash:") and bare.url != flash.url
        assert store.metrics.stats()["entries_without_link"] == 2
        # polled again (the clock moved on): nothing new
        store.client.zadd("cw:due", {base + "/a.xml": 0, base + "/b.xml": 0})
        poll(s, store, sink)
        assert len(sink) == 4
