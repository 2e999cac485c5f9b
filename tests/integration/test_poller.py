"""The poller end to end: a real Redis, feeds served over loopback, entries collected from ``enqueue``."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from localserver import QuietHandler, reply, serving
from probes import due_after, due_within, seen

from monitor.models import Entry
from monitor.poller import Poller
from monitor.settings import Settings, from_dict
from monitor.store import Store

NOW = datetime(2024, 5, 10, 12, 0, tzinfo=UTC).timestamp()


class FeedServer:
    """Serves ``docs[path]`` with an ETag (304 on If-None-Match), or ``(status, headers)`` from ``fail``."""

    def __init__(self) -> None:
        self.docs: dict[str, bytes] = {}
        self.fail: dict[str, tuple[int, dict[str, str]]] = {}
        self.hits: Counter[str] = Counter()
        self.delay = 0.0
        self.base = ""

    def reply(self, path: str, headers: Any) -> tuple[int, dict[str, str], bytes]:
        self.hits[path] += 1
        time.sleep(self.delay)
        if path in self.fail:
            status, extra = self.fail[path]
            return status, extra, b"nope"
        if path not in self.docs:
            return 404, {}, b""
        body = self.docs[path]
        etag = '"' + hashlib.sha1(body).hexdigest()[:12] + '"'
        if headers.get("If-None-Match") == etag:
            return 304, {"ETag": etag}, b""
        return 200, {"ETag": etag, "Content-Type": "application/rss+xml; charset=utf-8"}, body


@contextmanager
def feed_server(state: Any = None) -> Iterator[Any]:
    """Serves ``state.reply(path, headers)`` (a ``FeedServer`` unless another is given) at ``state.base``."""
    state = state if state is not None else FeedServer()

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802
            status, headers, body = state.reply(self.path, self.headers)
            reply(self, status, {**headers, "Content-Length": str(len(body))}, body)

    with serving(Handler) as base:
        state.base = base
        yield state


def rss(*items: tuple[str, str, str, str]) -> bytes:
    """items: (guid, link, title, pubDate)."""
    body = "".join(f"<item><guid isPermaLink='false'>{g}</guid><link>{link}</link><title>{t}</title>"
                   f"<pubDate>{d}</pubDate></item>" for g, link, t, d in items)
    head = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
    return f"{head}{body}</channel></rss>".encode()


RECENT, OLD = "Tue, 07 May 2024 10:00:00 GMT", "Sun, 01 Jan 2023 10:00:00 GMT"


def make_settings(base: str, feeds: list[dict[str, Any]]) -> Settings:
    return from_dict({
        "service": {"poll_interval": 60, "max_backoff": 600, "feed_lease": 30},
        "network": {"allow_private_addresses": True, "timeout": 2, "concurrency": 4},
        "watches": [
            {"name": "belgorod", "keywords": ["Белгород*", '"air raid"'], "exclude": ["учени*"], "seed": []},
            {"name": "kursk", "keywords": ["Kursk"], "max_age_days": 30, "seed": []},
        ],
        "feeds": [{**f, "url": base + f["url"]} for f in feeds],
    })


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def poller(settings: Settings, store: Store, sink: list[Entry], clock: Clock, ident: str = "p1",
           enqueue: Callable[[Entry], None] | None = None) -> Poller:
    return Poller(settings, store, enqueue or sink.append, ident=ident, clock=clock)


async def poll_once(p: Poller) -> int:
    try:
        return await p.poll_due()
    finally:
        await p.aclose()


def test_first_poll_enqueues_matches_then_304(redis_client: redis.Redis) -> None:
    store, sink, clock = Store(redis_client), [], Clock()
    with feed_server() as srv:
        srv.docs["/world"] = rss(
            ("g1", "https://news.test/a?utm_source=rss", "Обстрел Белгородской области", RECENT),
            ("g2", "https://news.test/b", "Weather in Paris", RECENT),
            ("g3", "https://news.test/c", "Белгород: начались учения", RECENT),  # excluded
            ("g4", "https://news.test/d", "Air raid in Kursk", RECENT),  # both watches
            ("g5", "https://news.test/e", "Kursk archive story", OLD),  # too old for kursk
        )
        settings = make_settings(srv.base, [{"url": "/world", "name": "World"}])
        p = poller(settings, store, sink, clock)
        p.sync_feeds()
        assert asyncio.run(poll_once(p)) == 2
        assert [(e.guid, e.watches) for e in sink] == [("g1", ("belgorod",)), ("g4", ("belgorod", "kursk"))]
        first = sink[0]
        assert (first.url, first.link, first.feed_name) == ("https://news.test/a", "https://news.test/a?utm_source=rss",
                                                             "World")
        assert first.published == "2024-05-07T10:00:00+00:00" and first.feed_url == srv.base + "/world"

        url = srv.base + "/world"
        state = store.feeds.state(url)
        assert state["etag"].startswith('"') and state["errors"] == "0" and state["items"] == "5"
        assert due_within(store, url, NOW + 60, NOW + 60)
        assert asyncio.run(poll_once(p)) == 0 and srv.hits["/world"] == 1  # not due yet

        clock.now += 61
        assert asyncio.run(poll_once(p)) == 0
        assert srv.hits["/world"] == 2 and len(sink) == 2
        assert store.feeds.state(url)["last_status"] == "304"
        stats = store.metrics.stats()
        assert (stats["feed_poll"], stats["feed_304"], stats["entries"]) == (2, 1, 2)


def test_same_article_in_two_feeds_enqueued_once(redis_client: redis.Redis) -> None:
    store, sink, clock = Store(redis_client), [], Clock()
    with feed_server() as srv:
        srv.docs["/one"] = rss(("one-1", "https://News.test/story?id=5&utm_medium=rss#top", "Белгород", RECENT))
        srv.docs["/two"] = rss(("two-77", "https://news.test:443/story?fbclid=x&id=5", "Белгород!", RECENT))
        p = poller(make_settings(srv.base, [{"url": "/one"}, {"url": "/two"}]), store, sink, clock)
        p.sync_feeds()
        assert asyncio.run(poll_once(p)) == 1
        assert [e.url for e in sink] == ["https://news.test/story?id=5"]


def test_feed_restricted_to_some_watches(redis_client: redis.Redis) -> None:
    store, sink, clock = Store(redis_client), [], Clock()
    with feed_server() as srv:
        srv.docs["/k"] = rss(("k1", "https://n.test/1", "Белгород", RECENT),
                             ("k2", "https://n.test/2", "Kursk", RECENT))
        p = poller(make_settings(srv.base, [{"url": "/k", "watches": ["kursk"]}]), store, sink, clock)
        p.sync_feeds()
        asyncio.run(poll_once(p))
        assert [(e.guid, e.watches) for e in sink] == [("k2", ("kursk",))]


def test_failing_feed_backs_off_and_records_the_error(redis_client: redis.Redis) -> None:
    store, sink, clock = Store(redis_client), [], Clock()
    with feed_server() as srv:
        srv.fail["/bad"] = (500, {})
        srv.fail["/slow"] = (429, {"Retry-After": "500"})
        srv.docs["/html"] = b"<!doctype html><html><body>not a feed</body></html>"
        p = poller(make_settings(srv.base, [{"url": "/bad"}, {"url": "/slow"}, {"url": "/html"}]), store, sink, clock)
        p.sync_feeds()
        asyncio.run(poll_once(p))
        bad = store.feeds.state(srv.base + "/bad")
        assert bad["errors"] == "1" and bad["last_error"].startswith("http_5xx: HTTP 500")
        assert due_within(store, srv.base + "/bad", NOW + 60 * 2 * 0.8, NOW + 60 * 2 * 1.2)
        assert due_within(store, srv.base + "/slow", NOW + 500)  # Retry-After is a floor
        assert store.feeds.state(srv.base + "/html")["last_error"].startswith("not_a_feed: ")

        clock.now += 150
        asyncio.run(poll_once(p))
        assert store.feeds.state(srv.base + "/bad")["errors"] == "2"
        assert due_within(store, srv.base + "/bad", clock.now + 60 * 4 * 0.8, clock.now + 60 * 4 * 1.2)
        assert srv.hits["/slow"] == 1  # still waiting out its Retry-After
        stats = store.metrics.stats()
        assert stats["feed_error:http_5xx"] == 2 and stats["feed_error:http_429"] == 1
        assert stats["feed_error:not_a_feed"] == 2

        srv.fail.pop("/bad")
        srv.docs["/bad"] = rss(("b1", "https://n.test/b1", "Kursk", RECENT))
        clock.now += 1000
        asyncio.run(poll_once(p))
        healed = store.feeds.state(srv.base + "/bad")
        assert (healed["errors"], healed["last_error"]) == ("0", "") and [e.guid for e in sink] == ["b1"]


def test_gone_feed_stops_being_polled_404_does_not(redis_client: redis.Redis) -> None:
    store, sink, clock = Store(redis_client), [], Clock()
    with feed_server() as srv:
        srv.fail["/gone"] = (410, {})
        srv.fail["/missing"] = (404, {})
        settings = make_settings(srv.base, [{"url": "/gone"}, {"url": "/missing"}])
        p = poller(settings, store, sink, clock)
        p.sync_feeds()
        asyncio.run(poll_once(p))
        gone = store.feeds.state(srv.base + "/gone")
        assert gone["gone"] == "1" and gone["last_error"].startswith("http_410")
        assert not due_within(store, srv.base + "/gone")
        assert due_within(store, srv.base + "/missing")

        p2 = poller(settings, store, sink, clock, ident="restarted")
        p2.sync_feeds()  # a restart does not bring it back
        clock.now += 10_000
        asyncio.run(poll_once(p2))
        assert srv.hits == Counter({"/gone": 1, "/missing": 2})


def test_two_pollers_never_fetch_the_same_feed_twice(redis_client: redis.Redis) -> None:
    store, sink, clock = Store(redis_client), [], Clock()
    with feed_server() as srv:
        for i in range(6):
            srv.docs[f"/f{i}"] = rss((f"g{i}", f"https://n.test/{i}", "Белгород", RECENT))
        srv.delay = 0.2
        settings = make_settings(srv.base, [{"url": f"/f{i}"} for i in range(6)])
        a = poller(settings, store, sink, clock, ident="a")
        b = poller(settings, store, sink, clock, ident="b")
        a.sync_feeds()

        async def both() -> list[int]:
            try:
                return await asyncio.gather(a.poll_due(), b.poll_due(), a.poll_due(), b.poll_due())
            finally:
                await a.aclose()
                await b.aclose()

        assert sum(asyncio.run(both())) == 6
        assert srv.hits == Counter({f"/f{i}": 1 for i in range(6)})
        assert sorted(e.guid for e in sink) == [f"g{i}" for i in range(6)]
        assert not any(redis_client.scan_iter("cw:lease:*"))  # every lease released

        # A poller whose due list is stale gets the lease after the other one finished: it must not fetch.
        assert asyncio.run(b.feed_poller.poll(settings.feeds[0], only_if_due=True)) == 0
        assert srv.hits["/f0"] == 1


def test_enqueue_failure_loses_nothing(redis_client: redis.Redis) -> None:
    store, sink, clock = Store(redis_client), [], Clock()
    broken = {"on": True}

    def enqueue(entry: Entry) -> None:
        if broken["on"] and entry.guid == "x2":
            raise redis.ConnectionError("queue away")
        sink.append(entry)

    with feed_server() as srv:
        srv.docs["/f"] = rss(("x1", "https://n.test/1", "Белгород", RECENT),
                             ("x2", "https://n.test/2", "Kursk", RECENT))
        p = poller(make_settings(srv.base, [{"url": "/f"}]), store, sink, clock, enqueue=enqueue)
        p.sync_feeds()
        assert asyncio.run(poll_once(p)) == 0
        state = store.feeds.state(srv.base + "/f")
        assert state["last_error"].startswith("enqueue: ") and state.get("etag", "") == ""  # validators not saved
        feed = srv.base + "/f"
        assert not seen(store, f"guid:{feed}|x2") and seen(store, f"guid:{feed}|x1")

        broken["on"] = False
        clock.now += 1000
        asyncio.run(poll_once(p))
        assert [e.guid for e in sink] == ["x1", "x2"]  # x1 once, x2 retried


def test_run_loop_polls_heartbeats_and_stops(redis_client: redis.Redis) -> None:
    store, sink = Store(redis_client), []
    with feed_server() as srv:
        srv.docs["/f"] = rss(("r1", "https://n.test/r1", "Kursk", time.strftime("%a, %d %b %Y %H:%M:%S GMT",
                                                                                   time.gmtime())))
        srv.fail["/bad"] = (500, {})
        p = Poller(make_settings(srv.base, [{"url": "/f"}, {"url": "/bad"}]), store, sink.append, ident="loop")

        async def scenario() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(p.run(stop))
            for _ in range(100):
                if sink:
                    break
                await asyncio.sleep(0.05)
            assert store.metrics.alive("poller") == ["loop"]
            stop.set()
            await asyncio.wait_for(task, timeout=2)

        asyncio.run(scenario())
        assert [e.guid for e in sink] == ["r1"]
        assert store.feeds.state(srv.base + "/bad")["errors"] == "1"


@pytest.mark.parametrize("body", [b"", b"\x1f\x8b garbage", b"<rss version='2.0'><channel><item><title>Kursk"])
def test_hostile_feed_bodies_never_stop_the_poller(redis_client: redis.Redis, body: bytes) -> None:
    store, sink, clock = Store(redis_client), [], Clock()
    with feed_server() as srv:
        srv.docs["/h"] = body
        p = poller(make_settings(srv.base, [{"url": "/h"}]), store, sink, clock)
        p.sync_feeds()
        asyncio.run(poll_once(p))
        assert due_after(store, srv.base + "/h", NOW)


def test_begin_and_finish_poll(redis_client: redis.Redis) -> None:
    store, url = Store(redis_client), "https://feeds.test/a.xml"
    store.feeds.register([url], now=NOW)
    store.feeds.save_state(url, {"etag": '"e1"', "errors": 0})
    assert store.feeds.begin_poll(url, "p1", 30, due_by=NOW - 1) is None  # not due yet: nothing held
    assert not any(redis_client.scan_iter("cw:lease:*")) and "feed_poll" not in store.metrics.stats()

    state = store.feeds.begin_poll(url, "p1", 30, due_by=NOW)
    assert state == {"etag": '"e1"', "errors": "0", "url": url} and store.metrics.stats()["feed_poll"] == 1
    assert store.feeds.begin_poll(url, "p2", 30) is None  # the lease is held, due or not

    store.feeds.finish_poll(url, "p1", {"last_status": 304, "last_ok": NOW + 1.5, "problem": None}, next_poll=NOW + 60,
                      counts={"feed_304": 1}, timings={"feed_fetch": 0.07})
    assert store.feeds.state(url) == {"etag": '"e1"', "errors": "0", "url": url, "last_status": "304",
                                     "last_ok": str(NOW + 1.5), "problem": ""}
    assert due_within(store, url, NOW + 60, NOW + 60) and store.metrics.stats()["feed_304"] == 1
    fetch = store.metrics.latencies()["feed_fetch"]
    assert fetch["count"] == 1 and abs(fetch["sum"] - 0.07) < 1e-9
    assert dict(fetch["buckets"])["0.05"] == 0 and dict(fetch["buckets"])["0.1"] == 1
    assert store.feeds.begin_poll(url, "p2", 30) is not None  # let go: another poller takes it

    # a lease that expired and was taken by another poller is not released by the late finisher
    store.feeds.finish_poll(url, "p1", {}, counts={}, timings={})
    assert store.feeds.begin_poll(url, "p3", 30) is None
    store.feeds.release_lease(url, "p2")
    assert store.feeds.begin_poll(url, "p3", 30) is not None  # not due-checked: poll_feed's way


def test_304_poll_is_two_round_trips_per_feed_and_writes_only_what_changed(redis_client: redis.Redis) -> None:
    store, sink, clock = Store(redis_client), [], Clock()
    with feed_server() as srv:
        srv.docs["/f"] = rss(("a1", "https://n.test/1", "Kursk", RECENT))
        p = poller(make_settings(srv.base, [{"url": "/f"}]), store, sink, clock)
        p.sync_feeds()
        asyncio.run(poll_once(p))
        url = srv.base + "/f"
        before = store.feeds.state(url)
        assert before["last_status"] == "200" and len(sink) == 1

        commands: list[str] = []
        real = redis_client.execute_command

        def counting(*args: Any, **kw: Any) -> Any:
            commands.append(str(args[0]).upper())
            return real(*args, **kw)

        redis_client.execute_command = counting  # type: ignore[method-assign]
        try:
            clock.now += 61
            asyncio.run(poll_once(p))
            hset_args = []
            original = store.feeds._finish_poll

            def spy(keys: Any, args: Any) -> Any:
                hset_args.append(list(args))
                return original(keys=keys, args=args)

            store.feeds._finish_poll = spy  # type: ignore[method-assign]
            clock.now += 61
            asyncio.run(poll_once(p))
        finally:
            del redis_client.execute_command
        # per cycle: the due list, then one round trip to start the poll and one to end it
        assert commands == ["ZRANGEBYSCORE", "EVALSHA", "EVALSHA"] * 2, commands
        assert srv.hits["/f"] == 3 and len(sink) == 1
        after = store.feeds.state(url)
        assert after["last_status"] == "304" and after["etag"] == before["etag"] and after["title"] == "T"
        assert float(after["next_poll"]) == clock.now + 60 and due_within(store, url, clock.now + 60, clock.now + 60)
        stats = store.metrics.stats()
        assert (stats["feed_poll"], stats["feed_304"]) == (3, 2)
        assert store.metrics.latencies()["feed_fetch"]["count"] == 3
        # the second 304 changed only the poll time and the schedule
        fields = hset_args[0][4:4 + int(hset_args[0][3])]
        assert sorted(fields[0::2]) == ["last_ok", "next_poll"], fields
        assert not any(redis_client.scan_iter("cw:lease:*"))


def test_an_entry_in_the_storys_words_is_kept_without_a_keyword(redis_client: redis.Redis) -> None:
    """The watch's learned profile (monitor.profile) keeps an entry no keyword names: polled, enqueued
    marked as learned, counted; without the profile it is dropped."""
    store, sink, clock = Store(redis_client), [], Clock()
    with feed_server() as srv:
        srv.docs["/world"] = rss(("g1", "https://news.test/a", "Partisan fighters claim a second raid", RECENT))
        p = poller(make_settings(srv.base, [{"url": "/world", "name": "World"}]), store, sink, clock)
        p.sync_feeds()
        assert asyncio.run(poll_once(p)) == 0 and sink == []
        store.known.add_profile("belgorod", ["parti", "fight", "raid", "incur"])
        srv.docs["/world"] = rss(("g1", "https://news.test/a", "Partisan fighters claim a second raid", RECENT),
                                 ("g2", "https://news.test/b", "Weather in Paris", RECENT))
        clock.now += 61
        p = poller(make_settings(srv.base, [{"url": "/world", "name": "World"}]), store, sink, clock)
        assert asyncio.run(poll_once(p)) == 1
        (e,) = sink
        assert e.url == "https://news.test/a" and e.watches == ("belgorod",) and e.learned == ("belgorod",)
        assert store.metrics.stats()["entries_learned"] == 1
        assert store.feeds.state(make_settings(srv.base, [{"url": "/world"}]).feeds[0].url).get("errors") in (None, "0")


# --------------------------------------------------------------------------- the watches' filters


def test_items_no_watch_takes_are_counted_once_and_logged(redis_client: redis.Redis,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    store, sink, clock = Store(redis_client), [], Clock()
    caplog.set_level("DEBUG", logger="monitor.admission")
    with feed_server() as srv:
        items = [("g1", "https://news.test/a", "Обстрел Белгородской области", RECENT),
                 ("g2", "https://news.test/b", "Weather in Paris", RECENT),
                 ("g5", "https://news.test/e", "Kursk archive story", OLD)]  # kursk's keyword, too old
        srv.docs["/world"] = rss(*items)
        p = poller(make_settings(srv.base, [{"url": "/world", "name": "World"}]), store, sink, clock)
        p.sync_feeds()
        assert asyncio.run(poll_once(p)) == 1
        stats = store.metrics.stats()
        assert (stats["entries_filtered:keywords"], stats["entries_filtered:max_age"]) == (1, 1)
        dropped = [r.getMessage() for r in caplog.records if "entry dropped" in r.getMessage()]
        assert dropped == ["feed World: entry dropped (no watch's keywords or learned profile match): Weather in Paris",
                           "feed World: entry dropped (older than max_age_days): Kursk archive story"]

        srv.docs["/world"] = rss(*items, ("g6", "https://news.test/f", "Football results", RECENT))
        clock.now += 61
        asyncio.run(poll_once(p))
        stats = store.metrics.stats()  # the items dropped before are not counted again; the new one is
        assert (stats["entries_filtered:keywords"], stats["entries_filtered:max_age"]) == (2, 1)


def test_the_same_feed_url_for_two_watches_is_polled_once_for_both(redis_client: redis.Redis) -> None:
    store, sink, clock = Store(redis_client), [], Clock()
    with feed_server() as srv:
        srv.docs["/world"] = rss(("g1", "https://news.test/a", "Обстрел Белгородской области", RECENT),
                                 ("g2", "https://news.test/b", "Kursk: power cut", RECENT),
                                 ("g3", "https://news.test/c", "Air raid in Kursk", RECENT))
        settings = make_settings(srv.base, [{"url": "/world", "name": "Belgorod news", "watches": ["belgorod"]},
                                            {"url": "/world", "name": "Kursk news", "watches": ["kursk"]}])
        p = poller(settings, store, sink, clock)
        p.sync_feeds()
        assert asyncio.run(poll_once(p)) == 3
        assert srv.hits["/world"] == 1
        assert [(e.guid, e.watches) for e in sink] == [
            ("g1", ("belgorod",)), ("g2", ("kursk",)), ("g3", ("belgorod", "kursk"))]
        assert {e.feed_name for e in sink} == {"Belgorod news / Kursk news"}


def test_keyword_matching_runs_off_the_event_loop(redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    """A feed's items are matched in a thread: a huge feed's text never holds the poll loop."""
    from monitor.filters import Query

    threads: list[int] = []
    original = Query.matches_words

    def spy(self: Query, words: Any) -> bool:
        threads.append(threading.get_ident())
        return original(self, words)

    monkeypatch.setattr(Query, "matches_words", spy)
    store, sink, clock = Store(redis_client), [], Clock()
    with feed_server() as srv:
        srv.docs["/world"] = rss(("g1", "https://news.test/a", "Обстрел Белгородской области", RECENT))
        p = poller(make_settings(srv.base, [{"url": "/world"}]), store, sink, clock)
        p.sync_feeds()
        assert asyncio.run(poll_once(p)) == 1
    assert threads and threading.main_thread().ident not in threads  # asyncio.run's loop is this thread's
