"""Hostile article pages through ``workers.fetch.fetch_article`` (real Redis, loopback server).

Each unusable page falls back to the feed's summary, counted (``page_error:{kind}``) and logged with
its reason; a transient failure is retried by RQ while the job has retries left, then the summary
stands in; a page fetched once is not fetched again when the job re-runs after a crash.
"""

from __future__ import annotations

import gzip
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import httpx
import pytest
import redis
from localserver import QuietHandler, reply, serving

from monitor import http
from monitor.errors import TransientError
from monitor.models import Article, Entry
from monitor.settings import NetworkSettings, from_dict
from monitor.store import Store
from workers import jobs
from workers.fetch import fetch_article

STORY = ("The harbour master of the invented port of Veltrana said on Monday that a cargo crane collapsed "
         "onto the quay during the night shift, and that 14 containers fell into the water. "
         "According to the port authority, divers recovered nine of them by the evening, while the "
         "remaining five were still being searched for with a sonar boat borrowed from the navy.")
PAGE = (f"<!doctype html><html><head><meta charset='utf-8'><title>Crane collapse</title></head><body>"
        f"<nav><a href='/'>Home</a></nav><article><h1>Crane collapses at Veltrana port</h1><p>{STORY}</p>"
        f"<p>{STORY.replace('Monday', 'Tuesday')}</p></article></body></html>")


class Pages:
    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.hits: Counter[str] = Counter()
        self.block = threading.Event()


@pytest.fixture
def pages() -> Iterator[tuple[Pages, str]]:
    state = Pages()

    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?", 1)[0]
            state.hits[path] += 1
            if path == "/slow.html":
                state.block.wait(5)
            if path == "/trickle.html":  # a byte every 0.2 s: every read is in time, the page never ends
                return trickle(self, state.block)
            reply(self, *state.routes.get(path, (404, {}, b"gone")))

    with serving(Handler) as base:
        try:
            yield state, base
        finally:
            state.block.set()


def trickle(h: QuietHandler, stop: threading.Event) -> None:
    try:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", "100000")
        h.end_headers()
        while not stop.wait(0.2):
            h.wfile.write(b"<")
            h.wfile.flush()
    except OSError:
        pass  # the client hung up: what the test wants


@dataclass
class Worker:
    """What the fetch stage gets from a worker: its client, the network settings, the store."""

    client: httpx.Client
    net: NetworkSettings
    store: Store

    def fetch(self, e: Entry, *, last_try: bool = True) -> Article:
        return fetch_article(e, self.client, self.net, self.store, last_try=last_try)


NETWORK = {"allow_private_addresses": True, "timeout": 0.5, "fetch_deadline": 2, "max_page_bytes": 200_000}


@pytest.fixture
def ctx(redis_client: redis.Redis) -> Iterator[Worker]:
    net = from_dict({"network": NETWORK, "watches": [{"name": "ports", "keywords": ["Veltrana"]}]}).network
    with http.make_client(net) as client:
        yield Worker(client, net, Store(redis_client))


def entry(base: str, path: str) -> Entry:
    link = f"{base}{path}" if path else ""
    return Entry(watches=("ports",), feed_url=f"{base}/feed.xml", feed_name="Harbour News", url=link or
                 f"{base}/feed.xml#entry-1", link=link, guid=path or "g1", title="Crane collapses at Veltrana port",
                 summary="A crane fell onto the quay at Veltrana; 14 containers went into the water.",
                 published=None, author=None)


BOMB = gzip.compress(b"<p>" + b"a" * 50_000_000, 9)
BROKEN = PAGE.encode().replace(b"cargo crane", b"cargo \xff\xfe\xc3 crane")  # not UTF-8, though declared
CASES: dict[str, tuple[tuple[int, dict[str, str], bytes], str]] = {
    "/report.pdf": ((200, {"Content-Type": "application/pdf"}, b"%PDF-1.7 ..."), "unsupported_type"),
    "/photo": ((200, {"Content-Type": "image/jpeg"}, b"\xff\xd8\xff\xe0 jpeg"), "unsupported_type"),
    "/untyped": ((200, {}, b"%PDF-1.4\x00\x01\x02 binary"), "unsupported_type"),
    "/big.html": ((200, {"Content-Type": "text/html"}, PAGE.encode() * 400), "too_large"),
    "/bomb.html": ((200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, BOMB), "too_large"),
    "/empty.html": ((200, {"Content-Type": "text/html"}, b"<html><body><nav>Home | World</nav></body></html>"),
                    "no_text"),
    "/missing.html": ((404, {}, b"not here"), "http_404"),
    "/moved": ((301, {"Location": "/moved"}, b""), "redirect_loop"),
    "": ((0, {}, b""), "no_link"),
}


@pytest.mark.parametrize("path", list(CASES))
def test_unusable_pages_fall_back_to_the_summary(pages: tuple[Pages, str], ctx: Worker, path: str,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    state, base = pages
    reply, kind = CASES[path]
    if path:
        state.routes[path] = reply
    caplog.set_level(logging.WARNING, logger="workers.fetch")
    article = ctx.fetch(entry(base, path))
    assert article.from_summary and "14 containers" in article.text
    assert ctx.store.metrics.stats()[f"page_error:{kind}"] == 1
    assert any("summary" in r.getMessage() for r in caplog.records)


def test_invalid_bytes_for_the_declared_charset_still_give_the_text(pages: tuple[Pages, str], ctx: Worker) -> None:
    state, base = pages
    state.routes["/broken.html"] = (200, {"Content-Type": "text/html; charset=utf-8"}, BROKEN)
    article = ctx.fetch(entry(base, "/broken.html"))
    assert not article.from_summary and "sonar boat" in article.text


def test_timeouts_are_retried_then_the_summary_stands_in(pages: tuple[Pages, str], ctx: Worker) -> None:
    state, base = pages
    state.routes["/slow.html"] = (200, {"Content-Type": "text/html"}, PAGE.encode())
    with pytest.raises(TransientError) as e:  # RQ's Retry runs the job again later
        ctx.fetch(entry(base, "/slow.html"), last_try=False)
    assert e.value.kind == "timeout"
    article = ctx.fetch(entry(base, "/slow.html"), last_try=True)
    assert article.from_summary
    assert ctx.store.metrics.stats()["page_error:timeout"] == 2


def test_the_job_says_whether_this_is_its_last_try(monkeypatch: pytest.MonkeyPatch) -> None:
    # workers.jobs reads RQ (retries left) so that the fetch stage need not
    seen: list[bool] = []
    monkeypatch.setattr(jobs, "_ctx", object())
    monkeypatch.setattr(jobs, "handle_entry", lambda e, ctx, last_try: seen.append(last_try) or [])
    for job in (SimpleNamespace(retries_left=2), SimpleNamespace(retries_left=0), None):
        monkeypatch.setattr(jobs, "get_current_job", lambda job=job: job)
        jobs.process_entry(entry("http://news.test", "/a.html").to_dict())
    assert seen == [False, True, True]


def test_a_page_is_fetched_once_even_when_its_job_runs_again(pages: tuple[Pages, str], ctx: Worker) -> None:
    state, base = pages
    state.routes["/story.html"] = (200, {"Content-Type": "text/html; charset=utf-8"}, PAGE.encode())
    first = ctx.fetch(entry(base, "/story.html"))
    again = ctx.fetch(entry(base, "/story.html"))  # the job re-run after a worker was killed
    assert not first.from_summary and "sonar boat" in first.text
    assert again == first and state.hits["/story.html"] == 1
    assert ctx.store.metrics.latencies()["page_fetch"]["count"] == 1


def test_a_page_gets_its_own_shorter_deadline(pages: tuple[Pages, str], ctx: Worker) -> None:
    # network.page_deadline (here 1 s) cuts a trickling page, though the feeds' fetch_deadline is 30 s
    _, base = pages
    net = ctx.net.model_copy(update={"fetch_deadline": 30.0, "page_deadline": 1.0})
    started = time.monotonic()
    with pytest.raises(TransientError) as e:
        fetch_article(entry(base, "/trickle.html"), ctx.client, net, ctx.store, last_try=False)
    took = time.monotonic() - started
    assert e.value.kind == "deadline" and "1 s deadline" in str(e.value)
    assert 0.9 < took < 5, took


UTF8_PAGE = PAGE.replace("invented port of Veltrana", "invented port of Veltrana (Вельтрана, Veltraña)")
RU_STORY = ("Начальник выдуманного порта Вельтрана сообщил в понедельник, что ночью на причал упал грузовой кран "
            "и четырнадцать контейнеров оказались в воде. По словам портовых властей, к вечеру водолазы подняли "
            "девять из них, а оставшиеся пять ищут с гидролокатором, который одолжили у флота.")
RU_PAGE = (f"<!doctype html><html><head><meta charset='windows-1251'><title>Кран упал</title></head><body>"
           f"<article><h1>В порту Вельтрана упал кран</h1><p>{RU_STORY}</p><p>{RU_STORY}</p></article></body></html>")


@pytest.mark.parametrize(("declared", "body"), [
    ("text/html; charset=iso-8859-1", UTF8_PAGE.encode()),  # UTF-8 sent under a Latin-1 label
    ("text/html; charset=windows-1252", UTF8_PAGE.encode()),
    ("text/html; charset=iso-8859-1", RU_PAGE.encode("cp1251")),  # a Russian page under a Latin-1 label
    ("text/html", RU_PAGE.encode("cp1251")),  # declared in the page only
    ("text/html; charset=utf-8", UTF8_PAGE.encode()),
])
def test_a_page_is_read_in_the_charset_it_is_really_in(pages: tuple[Pages, str], ctx: Worker, declared: str,
                                                        body: bytes) -> None:
    state, base = pages
    state.routes["/p.html"] = (200, {"Content-Type": declared}, body)
    article = ctx.fetch(entry(base, "/p.html"))
    assert not article.from_summary and "Вельтрана" in article.text and "Ã" not in article.text
