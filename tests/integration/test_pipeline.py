"""The worker pipeline against a real Redis: pages served over loopback, the shipped seed as knowledge.

workers.runtime.boot (seeding, knowledge) + workers.pipeline.process_entry (fetch, extract, dedup,
relevance, claims, alert, delivery enqueue), and workers.check.main (changes nothing).
"""

from __future__ import annotations

import contextlib
import html
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
from rq import Queue

from monitor.models import Entry
from monitor.queue import ALERTS
from monitor.settings import Settings, from_dict
from monitor.store import KnownRecord, Store, digest
from workers import check
from workers.jobs import handle_entry as process_entry
from workers.runtime import Context, boot
from workers.text import Analyzer

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "config" / "belgorod-raids.txt"
WATCH = "belgorod-raids"

# --------------------------------------------------------------------------- made-up articles

NEW_FACT = ("Regional governor Vyacheslav Gladkov said on Friday that 12 civilians were wounded when shells "
            "hit a school in Shebekino.")
KNOWN_1 = ("The UK's Ministry of Defence said the Russian military and interior forces had likely seen quicker "
           "success in containing this raid than the previous one.")
KNOWN_2 = ("Kremlin spokesperson Dmitry Peskov said Putin was informed of this development and that the "
           "saboteurs would be driven out.")
BACKGROUND = "Shebekino is a small town close to the border between Russia and Ukraine."

ARTICLE_A = [NEW_FACT, BACKGROUND, KNOWN_1, KNOWN_2]
# another outlet, the same fact in slightly different words, and known context
ARTICLE_C = [
    "Twelve civilians, according to regional governor Vyacheslav Gladkov, were wounded on Friday when shells hit "
    "a school in Shebekino, 12 of them children.",
    KNOWN_2,
    "The UK Ministry of Defence said Russian military and interior forces had likely contained this raid more "
    "quickly than the previous one.",
]
# two outlets carrying one new fact (for the race between two workers)
RACE_FACT_1 = ("The Freedom of Russia Legion said on Saturday that its fighters had shot down 3 Russian helicopters "
               "near the town of Grayvoron in the Belgorod region.")
RACE_FACT_2 = ("On Saturday the Freedom of Russia Legion said its fighters had shot down 3 Russian helicopters near "
               "Grayvoron in the Belgorod region.")
ARTICLE_F1 = [RACE_FACT_1, KNOWN_1, KNOWN_2]
ARTICLE_F2 = [RACE_FACT_2, KNOWN_2, KNOWN_1]
SEED_PARAGRAPHS = [" ".join(p.split()) for p in SEED.read_text(encoding="utf-8").split("\n\n") if p.strip()]


def page(title: str, paragraphs: list[str], site: str = "Northern Ledger") -> bytes:
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title><meta property="og:site_name" content="{site}">
<meta property="article:published_time" content="2023-06-02T10:00:00+00:00"></head>
<body><nav><a href="/">Home</a> <a href="/world">World news</a></nav>
<article><h1>{html.escape(title)}</h1>
{body}
</article>
<aside class="related"><h3>Related</h3><a href="/x">Heatwave breaks records across southern Europe</a></aside>
<section class="comments"><p>Reader: the bakery in Shebekino reopened on Friday, my cousin said.</p></section>
</body></html>""".encode()


def seed_page() -> bytes:
    return page("Anti-Putin Groups Claim To Have Attacked Western Russia For The Second Time In 10 Days",
                SEED_PARAGRAPHS, "Syndicator")


# --------------------------------------------------------------------------- loopback servers


class Server:
    """Pages by path (404 otherwise); records every request, and every POST (the webhook receiver)."""

    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        self.gets: list[str] = []
        self.posts: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                server.gets.append(self.path)
                body = server.pages.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.posts.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    s = Server()
    s.thread.start()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


@pytest.fixture(scope="module")
def settings(server: Server) -> Settings:
    return from_dict({
        "service": {"http_port": 0},
        "network": {"allow_private_addresses": True, "timeout": 5},
        "watches": [{"name": WATCH, "seed": [str(SEED.resolve())],
                     "keywords": ["Belgorod*", "Shebekino", "Grayvoron", "\"Freedom of Russia Legion\""]}],
        "alerts": [{"type": "webhook", "url": server.url("/hook")}],
    }, env={})


@pytest.fixture
def ctx(settings: Settings, redis_client: redis.Redis, analyzer: Analyzer) -> Iterator[Context]:
    c = boot(settings, redis_client, analyzer=analyzer)
    yield c
    c.client.close()


def entry(server: Server, path: str, title: str = "Shelling in Belgorod region",
          summary: str = "Shells hit Shebekino in the Belgorod region, officials said.") -> Entry:
    url = server.url(path)
    return Entry(watches=(WATCH,), feed_url=server.url("/rss"), feed_name="Test feed", url=url, link=url, guid=url,
                 title=title, summary=summary, published="2023-06-02T10:00:00+00:00")


def alerts_queue(redis_client: redis.Redis) -> Queue:
    return Queue(ALERTS, connection=redis_client)


# --------------------------------------------------------------------------- cases


def test_boot_seeds_the_watch(ctx: Context, redis_client: redis.Redis) -> None:
    store = Store(redis_client)
    n = len(store.known.read(WATCH))
    assert n > 20
    assert len(ctx.knowledge[WATCH].items) == n
    assert ctx.knowledge[WATCH].synced == n
    assert {k.kind for k in ctx.knowledge[WATCH].items} == {"seed"}
    assert ctx.alerts_queue is not None and ctx.alerts_queue.name == ALERTS
    assert [s.name for s in ctx.sinks] == ["0:webhook"]


def test_new_fact_alerts_once_and_a_copy_of_it_does_not(ctx: Context, server: Server,
                                                        redis_client: redis.Redis) -> None:
    store = ctx.store
    server.pages["/a"] = page("Shells hit school in Belgorod region", ARTICLE_A)
    e = entry(server, "/a")

    # (a) a new reported fact -> new_claims, the alert saved and logged, a delivery enqueued
    (a,) = process_entry(e, ctx)
    assert a.status == "new_claims", a.reason
    assert [v.sentence for v in a.new] == [NEW_FACT]
    verdicts = {v.sentence: v.verdict for v in a.verdicts}
    assert verdicts[BACKGROUND] == "background"
    assert verdicts[KNOWN_1] == "known" and verdicts[KNOWN_2] == "known"
    assert not any("bakery" in s for s in verdicts)  # the comments are not the article's
    alert_id = digest(f"{WATCH}|{e.url}")
    saved = store.alerts.saved(alert_id)
    assert saved is not None
    assert saved["article_url"] == e.url and saved["watch"] == WATCH
    assert [c["text"] for c in saved["claims"]] == [NEW_FACT]
    assert saved["claims"][0]["attribution"] == "Vyacheslav Gladkov"
    (logged,) = store.alerts.recent()
    assert logged["id"] == alert_id and logged["url"] == e.url
    queue = alerts_queue(redis_client)
    assert queue.count == 1
    (job,) = queue.jobs
    assert job.func_name == "workers.jobs.deliver_alert"
    assert job.args[0]["id"] == alert_id and job.args[1] == "0:webhook"
    record = store.articles.get(e.url)
    assert record["status"] == "done" and record[f"watch:{WATCH}"] == "new_claims"
    assert record["from_summary"] == "0"
    assert server.posts == []  # nothing delivers in this test: no worker runs the alerts queue
    lat = store.metrics.latencies()  # the novelty lock's wait and hold times (what bounds scaling) are observed
    assert lat["novelty_lock_held"]["count"] == lat["novelty_lock_wait"]["count"] == 1

    # (b) the same entry again -> nothing new, no second alert, no second delivery job
    fetched = server.gets.count("/a")
    assert process_entry(e, ctx) == []
    assert server.gets.count("/a") == fetched  # not even fetched again
    assert len(store.alerts.recent()) == 1
    assert queue.count == 1

    # (c) another outlet repeating the fact in other words -> no alert
    server.pages["/c"] = page("Twelve hurt as school is shelled in Shebekino", ARTICLE_C, "Other Outlet")
    (c,) = process_entry(entry(server, "/c"), ctx)
    assert c.status in ("no_new_claims", "duplicate"), [(v.verdict, v.sentence) for v in c.verdicts]
    assert not c.new
    assert len(store.alerts.recent()) == 1
    assert queue.count == 1


def test_syndicated_copy_of_the_seed_does_not_alert(ctx: Context, server: Server, redis_client: redis.Redis) -> None:
    # (d)
    server.pages["/syndicated"] = seed_page()
    e = entry(server, "/syndicated", title="Anti-Putin groups attack Belgorod again")
    (d,) = process_entry(e, ctx)
    assert d.status in ("duplicate", "no_new_claims"), [(v.verdict, v.sentence) for v in d.new]
    assert d.duplicate_of == "seed:belgorod-raids.txt"
    assert not d.new
    assert ctx.store.alerts.recent() == []
    assert ctx.store.alerts.saved(digest(f"{WATCH}|{e.url}")) is None
    assert alerts_queue(redis_client).count == 0


def test_a_page_that_404s_falls_back_to_the_feed_summary(ctx: Context, server: Server) -> None:
    # (e)
    e = entry(server, "/gone", summary="Regional governor Vyacheslav Gladkov said on Friday that shells hit "
                                       "Shebekino in the Belgorod region.")
    (a,) = process_entry(e, ctx)
    record = ctx.store.articles.get(e.url)
    assert record["from_summary"] == "1"
    assert record["status"] == "done"
    assert record[f"watch:{WATCH}"] == a.status
    assert a.status in ("new_claims", "no_new_claims", "off_topic")
    assert ctx.store.metrics.stats().get("page_error:http_404") == 1
    judged = [v.sentence for v in a.verdicts]
    assert not judged or e.summary in judged


def test_two_workers_alert_one_fact_once(ctx: Context, settings: Settings, redis_client: redis.Redis,
                                         analyzer: Analyzer, server: Server) -> None:
    # (f) two Contexts, as two worker processes would have, racing on two copies of one new fact
    workers = [ctx, boot(settings, redis_client, analyzer=analyzer)]
    server.pages["/f1"] = page("Legion claims helicopters downed near Grayvoron", ARTICLE_F1, "Outlet One")
    server.pages["/f2"] = page("Three helicopters shot down, Legion says", ARTICLE_F2, "Outlet Two")
    entries = [entry(server, "/f1", title="Legion claims helicopters downed near Grayvoron"),  # as feeds title them
               entry(server, "/f2", title="Three helicopters shot down, Legion says")]
    # Make the race certain rather than likely: each worker, having read what the watch knows, waits up to
    # 0.5 s for the other to have read it too. Under the novelty lock the other cannot (it waits for the lock),
    # so the first goes on alone; were judge-and-register not atomic, both would judge the fact new.
    synced = threading.Barrier(2)
    for w in workers:
        knowledge = w.knowledge[WATCH]

        def sync(store: Store, _sync=knowledge.sync) -> int:  # noqa: B008 (bind this worker's method)
            n = _sync(store)
            with contextlib.suppress(threading.BrokenBarrierError):
                synced.wait(timeout=0.5)
            return n

        knowledge.sync = sync  # type: ignore[method-assign]
    barrier = threading.Barrier(2)
    results: dict[int, list] = {}
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = process_entry(entries[i], workers[i])
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    workers[1].client.close()
    assert not errors, errors
    statuses = [results[i][0].status for i in range(2)]
    assert statuses.count("new_claims") == 1, statuses
    loser = next(results[i][0] for i in range(2) if results[i][0].status != "new_claims")
    assert loser.status in ("no_new_claims", "duplicate") and not loser.new
    alerted = [c["text"] for a in Store(redis_client).alerts.recent() for c in json.loads(a["claims"])]
    assert len(alerted) == 1 and alerted[0] in (RACE_FACT_1, RACE_FACT_2)
    assert alerts_queue(redis_client).count == 1
    # both workers registered the other's sentences: the knowledge list holds each article's sentences once
    store = Store(redis_client)
    texts = [k.text for k in store.known.read(WATCH)]
    assert texts.count(RACE_FACT_1) == 1 and texts.count(RACE_FACT_2) == 1


def test_seeding_is_idempotent(ctx: Context, settings: Settings, redis_client: redis.Redis,
                               analyzer: Analyzer) -> None:
    # (g) the ctx fixture booted once; a second worker boots against the same Redis
    store = Store(redis_client)
    n = len(store.known.read(WATCH))
    seeded = store.known.seeded(WATCH)
    second = boot(settings, redis_client, analyzer=analyzer)
    second.client.close()
    assert len(store.known.read(WATCH)) == n
    assert store.known.seeded(WATCH) == seeded and list(seeded) == [str(SEED.resolve())]
    assert len(ctx.knowledge[WATCH].items) == len(second.knowledge[WATCH].items) == n


def test_check_prints_new_claims_and_writes_nothing(settings: Settings, redis_client: redis.Redis, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "article.html"
    target.write_bytes(page("Shells hit school in Belgorod region", ARTICLE_A))
    before = redis_client.dbsize()
    assert check.main(settings, str(target), explain=True, redis_url=None) == 0
    out = capsys.readouterr().out
    assert f"[{WATCH}] new_claims" in out
    new_lines = [line for line in out.splitlines() if line.strip().startswith("NEW")]
    assert len(new_lines) == 1 and NEW_FACT in new_lines[0]
    assert "would alert 1 claim(s)" in out
    assert "known" in out and "background" in out  # --explain shows every verdict
    assert redis_client.dbsize() == before == 0


def test_knowledge_sync_reads_only_what_was_appended(ctx: Context, redis_client: redis.Redis) -> None:
    store, knowledge = Store(redis_client), ctx.knowledge[WATCH]
    n = len(knowledge.items)
    assert knowledge.sync(store) == 0  # nothing new since boot
    other = "https://other.example/x"
    store.known.register(WATCH, [KnownRecord(RACE_FACT_1, other, "article", "en")])
    assert knowledge.sync(store) == 1
    assert knowledge.sync(store) == 0
    assert len(knowledge.items) == knowledge.synced == n + 1
    added = knowledge.items[-1]
    assert (added.text, added.source, added.kind) == (RACE_FACT_1, other, "article")
    assert "grayvoron" in added.terms.names and "3" in added.terms.numbers


def test_a_crash_after_registering_but_before_enqueueing_still_delivers_once(
        ctx: Context, server: Server, redis_client: redis.Redis) -> None:
    store = ctx.store
    server.pages["/crash"] = page("Shells hit school in Belgorod region", ARTICLE_A)
    e = entry(server, "/crash")
    (a,) = process_entry(e, ctx)
    assert a.status == "new_claims"
    queue = alerts_queue(redis_client)
    queue.empty()  # as if the worker died right after the registration transaction
    store.articles.save(e.url, {"status": "processing"})  # the job runs again (RQ re-queued it)
    (again,) = process_entry(e, ctx)
    assert again.status == "new_claims" and "registered before" in again.reason
    assert queue.count == 1 and queue.jobs[0].args[0]["id"] == digest(f"{WATCH}|{e.url}")
    assert len(store.alerts.recent()) == 1  # one alert, logged once


def test_near_duplicate_index_finds_a_copy_and_keeps_one_entry_per_text(redis_client: redis.Redis) -> None:
    from monitor.store import Store
    from workers import dedup

    store = Store(redis_client)
    text = " ".join(ARTICLE_A) * 3
    sig = dedup.signature(text)
    dedup.index(store, WATCH, "https://a.example/1", sig)
    dedup.index(store, WATCH, "https://a.example/1", sig)  # indexing again adds nothing
    near, j = dedup.nearest_copy(store, WATCH, dedup.signature(text + " One more sentence at the end."), 0.8)
    assert near == "https://a.example/1" and j > 0.8
    assert dedup.nearest_copy(store, WATCH, sig, 0.8, exclude="https://a.example/1") == (None, 0.0)
    packed = redis_client.hgetall(f"cw:w:{WATCH}:lsh")  # one 12-byte record per band, not two
    assert sum(len(v) for v in packed.values()) == 12 * dedup.BANDS


def test_a_job_that_fails_before_registering_leaves_no_trace_in_the_worker(
        ctx: Context, server: Server, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    """Jobs share one process: an index that took an article's sentences which never reached Redis
    must not make the retry of that article judge its own claims known (the alert would be lost)."""
    store = ctx.store
    server.pages["/fails"] = page("Shells hit school in Belgorod region", ARTICLE_A)
    e = entry(server, "/fails")
    known_before = len(store.known.read(WATCH))

    def unreachable(*args: object, **kwargs: object) -> None:
        raise redis.ConnectionError("Redis went away mid-job")

    monkeypatch.setattr(store.known, "register", unreachable)
    with pytest.raises(redis.ConnectionError):
        process_entry(e, ctx)
    assert WATCH in ctx.stale and len(store.known.read(WATCH)) == known_before
    monkeypatch.undo()

    (a,) = process_entry(e, ctx)  # RQ's retry, in the same process
    assert a.status == "new_claims" and [v.sentence for v in a.new] == [NEW_FACT]
    assert WATCH not in ctx.stale
    knowledge = ctx.knowledge[WATCH]
    assert len(knowledge.items) == knowledge.synced == len(store.known.read(WATCH))
    assert len(store.alerts.recent()) == 1


def test_relevance_scored_outside_the_lock_is_reused_only_against_the_same_index(ctx: Context,
                                                                                 server: Server) -> None:
    from dataclasses import replace

    from workers.extract import extract
    from workers.pipeline import assess, read

    body = page("Belgorod football club signs a striker", [
        "The Belgorod football club signed a new striker from a second-division side on Monday.",
        "The coach said the young forward would train with the first team before the season opener.",
        "Supporters queued outside the stadium shop to buy the new kit, the club said in a statement."])
    e = entry(server, "/football", title="Belgorod football club signs a striker")
    article = extract(body, e.url, e)
    knowledge, watch = ctx.knowledge[WATCH], ctx.settings.watch(WATCH)
    r = read(article, ctx.analyzer)
    stale = replace(r, relevance=(knowledge.synced - 1, 0.99))  # scored before others added to the index
    a = assess(article, watch, knowledge, ctx.analyzer, ctx.queries[WATCH], reading=stale)
    assert a.status == "off_topic" and a.relevance < watch.novelty.relevance  # scored again
    current = replace(r, relevance=(knowledge.synced, 0.99))
    b = assess(article, watch, knowledge, ctx.analyzer, ctx.queries[WATCH], reading=current)
    assert b.status != "off_topic" and b.relevance == 0.99  # the same index: the score outside the lock stands
