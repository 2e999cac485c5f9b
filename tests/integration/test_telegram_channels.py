"""The poller reading Telegram channels from a local preview server (tests/tgpreview.py's markup),
and a web page given as a feed: a real Redis, loopback HTTP, entries collected from ``enqueue``."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import redis
from test_poller import NOW, Clock, feed_server, poll_once, poller
from tgpreview import TgPost, contact_page, page

from monitor.settings import Settings, from_dict
from monitor.store import Store

PER_PAGE = 20  # posts on one preview page, as t.me shows


class PreviewServer:
    """``/s/<channel>[?before=N]``: the channel's newest posts (older than N), ETag and 304; a closed
    channel's ``/s/`` redirects to its contact page; ``/page.html`` a web page naming its feeds."""

    def __init__(self) -> None:
        self.channels: dict[str, tuple[str, list[TgPost]]] = {}
        self.closed: dict[str, str] = {}
        self.renamed: dict[str, str] = {}
        self.hits: Counter[str] = Counter()
        self.base = ""

    def reply(self, raw: str, headers: Any) -> tuple[int, dict[str, str], bytes]:
        self.hits[raw] += 1
        parts = urlsplit(raw)
        path, query = parts.path, parse_qs(parts.query)
        name = path.removeprefix("/s/")
        if path.startswith("/s/") and name in self.renamed:
            return 301, {"Location": f"/s/{self.renamed[name]}"}, b""
        if path.startswith("/s/") and name in self.closed:
            return 302, {"Location": f"/{name}"}, b""
        if path.lstrip("/") in self.closed:
            name = path.lstrip("/")
            return 200, {"Content-Type": "text/html; charset=utf-8"}, contact_page(name, self.closed[name])
        if path == "/page.html":
            return 200, {"Content-Type": "text/html"}, (
                b'<html><head><link rel="alternate" type="application/rss+xml" title="All" href="/rss/all.xml">'
                b'<link rel="alternate" type="application/atom+xml" href="https://news.example/atom"></head>'
                b"<body><p>Hello</p></body></html>")
        if not path.startswith("/s/") or name not in self.channels:
            return 404, {}, b""
        title, posts = self.channels[name]
        before = int(query["before"][0]) if "before" in query else None
        shown = [p for p in posts if before is None or p.id < before][-PER_PAGE:]
        body = page(name, title, shown)
        etag = '"' + hashlib.sha1(body).hexdigest()[:12] + '"'
        if headers.get("If-None-Match") == etag:
            return 304, {"ETag": etag}, b""
        return 200, {"ETag": etag, "Content-Type": "text/html; charset=utf-8"}, body


def preview_server() -> AbstractContextManager[PreviewServer]:
    return feed_server(PreviewServer())


def settings(base: str, channels: list[str], extra: list[dict[str, object]] = ()) -> Settings:  # type: ignore[assignment]
    return from_dict({
        "service": {"poll_interval": 60, "max_backoff": 600, "feed_lease": 30},
        "network": {"allow_private_addresses": True, "timeout": 2, "concurrency": 4},
        "watches": [{"name": "belgorod", "keywords": ["Белгород*", "Шебекин*", "Belgorod"], "seed": []}],
        "feeds": [{"type": "telegram", "url": f"{base}/s/{c}"} for c in channels] + list(extra),
    })


def post(i: int, text: str = "", **kw: object) -> TgPost:
    return TgPost(i, text or f"Пост {i}: в Белгородской области сегодня объявлена тревога.", **kw)  # type: ignore[arg-type]


def test_channel_posts_are_entries_with_their_text_and_permalink(redis_client: redis.Redis) -> None:
    store, sink, clock = Store(redis_client), [], Clock()
    with preview_server() as srv:
        srv.channels["vvgladkov"] = ("Вячеслав Гладков", [post(1), post(2, "Погода в Москве хорошая сегодня."),
                                                          post(3, "Шебекино: сегодня\nранены двое.")])
        p = poller(settings(srv.base, ["vvgladkov"]), store, sink, clock)
        p.sync_feeds()
        assert asyncio.run(poll_once(p)) == 2
        first, third = sink
        assert (first.url, first.link, first.feed_name, first.title) == (
            "https://t.me/vvgladkov/1", "https://t.me/vvgladkov/1", "Вячеслав Гладков", "")
        assert third.text == "Шебекино: сегодня\nранены двое." and third.guid == "tg:vvgladkov/3"
        url = f"{srv.base}/s/vvgladkov"
        assert store.feeds.state(url)["tg_last"] == "3"
        clock.now += 61  # unchanged: a 304, nothing new
        assert asyncio.run(poll_once(p)) == 0 and store.feeds.state(url)["last_status"] == "304"


def test_more_posts_than_a_page_are_read_from_older_pages(redis_client: redis.Redis) -> None:
    store, sink, clock = Store(redis_client), [], Clock()
    with preview_server() as srv:
        posts = [post(i) for i in range(1, 6)]
        srv.channels["vvgladkov"] = ("Гладков", posts)
        p = poller(settings(srv.base, ["vvgladkov"]), store, sink, clock)
        p.sync_feeds()
        assert asyncio.run(poll_once(p)) == 5
        posts += [post(i) for i in range(6, 51)]  # 45 new posts: more than two pages
        clock.now += 61
        assert asyncio.run(poll_once(p)) == 45
        assert sorted(int(e.guid.rsplit("/", 1)[1]) for e in sink) == list(range(1, 51))
        assert srv.hits["/s/vvgladkov?before=31"] == 1 and srv.hits["/s/vvgladkov?before=11"] == 1
        assert "/s/vvgladkov?before=6" not in srv.hits  # it stops at what the last poll read


def test_forward_read_before_its_original_is_one_entry_linking_the_original(redis_client: redis.Redis) -> None:
    store, sink, clock = Store(redis_client), [], Clock()
    with preview_server() as srv:
        text = "РДК: сегодня бойцы вошли в Белгородскую область."
        srv.channels["aggregator"] = ("Агрегатор", [post(70, text, forward=("РДК", "https://t.me/russvolcorps/5"))])
        srv.channels["russvolcorps"] = ("РДК", [])
        p = poller(settings(srv.base, ["aggregator", "russvolcorps"]), store, sink, clock)
        p.sync_feeds()
        assert asyncio.run(poll_once(p)) == 1
        [fwd] = sink
        assert (fwd.url, fwd.link, fwd.origin) == ("https://t.me/russvolcorps/5", "https://t.me/aggregator/70", "РДК")
        srv.channels["russvolcorps"] = ("РДК", [post(5, text)])  # the original is read later: seen already
        clock.now += 61
        assert asyncio.run(poll_once(p)) == 0 and len(sink) == 1


def test_an_edited_post_is_enqueued_again_as_a_new_version(redis_client: redis.Redis) -> None:
    store, sink, clock = Store(redis_client), [], Clock()
    with preview_server() as srv:
        srv.channels["vvgladkov"] = ("Гладков", [post(9, "Белгород: сегодня ранен один человек.")])
        p = poller(settings(srv.base, ["vvgladkov"]), store, sink, clock)
        p.sync_feeds()
        assert asyncio.run(poll_once(p)) == 1
        srv.channels["vvgladkov"] = ("Гладков", [post(9, "Белгород: сегодня ранены два человека.", edited=True)])
        clock.now += 61
        assert asyncio.run(poll_once(p)) == 1
        clock.now += 61
        assert asyncio.run(poll_once(p)) == 0  # the same version again: nothing
        assert [e.url.split("#")[0] for e in sink] == ["https://t.me/vvgladkov/9"] * 2
        assert sink[1].url.startswith("https://t.me/vvgladkov/9#edited-") and "два" in sink[1].text


def test_a_channel_without_preview_fails_with_its_reason_and_backs_off(redis_client: redis.Redis) -> None:
    store, sink, clock = Store(redis_client), [], Clock()
    with preview_server() as srv:
        srv.closed["closedchan"] = "This channel can't be displayed because it violated Telegram's Terms of Service."
        p = poller(settings(srv.base, ["closedchan"]), store, sink, clock)
        p.sync_feeds()
        assert asyncio.run(poll_once(p)) == 0
        state = store.feeds.state(f"{srv.base}/s/closedchan")
        assert state["last_error"].startswith("telegram_unavailable: channel closedchan has no public preview")
        assert float(state["next_poll"]) > NOW + 60  # backed off: 2 x interval, +-20%
        assert store.metrics.stats()["feed_error:telegram_unavailable"] == 1
        assert sink == []
        srv.renamed["oldname"] = "vvgladkov"
        srv.channels["vvgladkov"] = ("Гладков", [post(1)])
        p = poller(settings(srv.base, ["oldname"]), store, sink, clock)
        p.sync_feeds()
        assert asyncio.run(poll_once(p)) == 0
        assert 'renamed? use channel = "vvgladkov"' in store.feeds.state(f"{srv.base}/s/oldname")["last_error"]


def test_a_web_page_given_as_a_feed_names_the_feed_to_use(redis_client: redis.Redis) -> None:
    store, sink, clock = Store(redis_client), [], Clock()
    with preview_server() as srv:
        p = poller(settings(srv.base, [], [{"url": f"{srv.base}/page.html"}]), store, sink, clock)
        p.sync_feeds()
        assert asyncio.run(poll_once(p)) == 0
        error = store.feeds.state(f"{srv.base}/page.html")["last_error"]
        assert error.startswith("not_a_feed: not a feed") and f'use url = "{srv.base}/rss/all.xml"' in error
        assert "https://news.example/atom" in error




def test_the_usual_guards_hold_for_channels(redis_client: redis.Redis) -> None:
    """A preview on a private address is refused unless allowed; a page over max_feed_bytes is too large."""
    store, sink, clock = Store(redis_client), [], Clock()
    with preview_server() as srv:
        srv.channels["vvgladkov"] = ("Гладков", [post(i, "Белгород. " * 400) for i in range(1, 21)])
        guarded = settings(srv.base, ["vvgladkov"]).model_copy(
            update={"network": settings(srv.base, []).network.model_copy(update={"allow_private_addresses": False})})
        p = poller(guarded, store, sink, clock)
        p.sync_feeds()
        assert asyncio.run(poll_once(p)) == 0
        url = f"{srv.base}/s/vvgladkov"
        assert store.feeds.state(url)["last_error"].startswith("forbidden_address")
        assert not srv.hits  # nothing was asked of the address
        small = settings(srv.base, ["vvgladkov"])
        small = small.model_copy(update={"network": small.network.model_copy(update={"max_feed_bytes": 20_000})})
        clock.now += 3600
        p = poller(small, store, sink, clock)
        assert asyncio.run(poll_once(p)) == 0
        assert store.feeds.state(url)["last_error"].startswith("too_large") and sink == []
