"""entry -> page -> article -> (per watch) match, dedup, relevance, claims -> alert.

``workers.fetch`` turns the entry into an article (its page, else its summary). ``Context`` holds
what a worker process keeps between jobs (settings, clients, the analyzer, each watch's knowledge
index). ``assess`` is the judgement, free of Redis writes, so ``claimwatch check`` runs it on a
copy; ``process_entry`` adds the side effects: the article record, the dedup index, the knowledge,
the alert and its deliveries, all under the watch's novelty lock.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

import httpx
import numpy as np
import redis

from monitor.filters import Query
from monitor.models import Alert, Article, Entry
from monitor.settings import Settings, WatchSettings
from monitor.store import Store, digest
from workers import dedup
from workers.claims import Verdict, candidates, judge
from workers.embed import Encoder
from workers.fetch import fetch_article
from workers.knowledge import Knowledge, day_of
from workers.lexicon import strip_dateline
from workers.relevance import out_of_time, relevance
from workers.text import Analyzer, Terms

log = logging.getLogger(__name__)
# An article whose title and summary name no keyword (kept by its learned profile, ``monitor.profile``)
# must be this many times as topical as the relevance bar: its keyword is only in passing, so more evidence.
LEARNED_RELEVANCE = 2.0


class Context(Protocol):
    """What judging an entry needs of a worker's long-lived state (``workers.runtime.Context`` has
    it, and the delivery queue and sinks, which only ``workers.jobs`` uses)."""

    settings: Settings
    store: Store
    analyzer: Analyzer
    client: httpx.Client
    queries: dict[str, Query]
    knowledge: dict[str, Knowledge]
    stale: set[str]  # watches whose index a failed job may have left ahead of Redis


@dataclass
class Assessment:
    watch: str
    status: str  # no_match | duplicate | off_topic | no_new_claims | new_claims
    reason: str
    relevance: float = 0.0
    duplicate_of: str | None = None
    verdicts: list[Verdict] = field(default_factory=list)
    lang: str = "en"
    alert: Alert | None = None  # registered for this article: to deliver

    @property
    def new(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.is_new]


@dataclass(frozen=True)
class Outcome:
    """An entry judged: each watch's assessment, and the alerts to deliver (``workers.jobs`` enqueues
    them; a re-run after a crash returns the alerts registered before, whose delivery may be missing)."""

    assessments: list[Assessment]
    alerts: list[Alert]
    article: Article | None = None  # what was judged (None: a re-run of a finished job)


def _year(published: str | None) -> int | None:
    try:
        return int(published[:4]) if published else None
    except ValueError:
        return None


def sentences(article: Article, lang: str, analyzer: Analyzer) -> list[str]:
    return [s for p in article.paragraphs for s in analyzer.sentences(p, lang)]


@dataclass(frozen=True)
class Reading:
    """What an article says, read without the watch's knowledge (so outside its lock)."""

    lang: str
    sentences: list[str]
    terms: list[Terms]
    vectors: np.ndarray | None = None
    relevance: tuple[int, float] | None = None  # (the index's sync count, the score against it)


def read(article: Article, analyzer: Analyzer, encoder: Encoder | None = None) -> Reading:
    lang = analyzer.language(article.text, article.language)
    sents = sentences(article, lang, analyzer)
    bare = [strip_dateline(s) for s in sents]  # "LONDON, June 28 (Wire) - " says who filed it, not what happened
    return Reading(lang, sents, [analyzer.terms(s, lang) for s in bare],
                   encoder.encode(bare) if encoder is not None else None)


def assess(article: Article, watch: WatchSettings, knowledge: Knowledge, analyzer: Analyzer,
           query: Query, near: tuple[str | None, float] = (None, 0.0), reading: Reading | None = None,
           learned: bool = False, record: bool = False) -> Assessment:
    """Judge one article for one watch. Adds the article's sentences to ``knowledge`` if relevant.

    ``learned``: the entry was kept by the watch's learned profile, not its keywords (its title and
    summary name none). The profile only widens what is read: its text must still name a keyword,
    as every article's must, and be twice as topical as ``novelty.relevance`` asks of the others."""
    if not query.matches(f"{article.title}\n{article.text}"):
        why = "the text does not match the watch's keywords" + (" (read for its learned terms)" if learned else "")
        return Assessment(watch.name, "no_match", why)
    r = reading or read(article, analyzer)
    if r.relevance is not None and r.relevance[0] == knowledge.synced == knowledge.held:
        score = r.relevance[1]  # scored outside the lock against this very index
    else:
        score = relevance(r.terms, knowledge, r.lang)
    bar = watch.novelty.relevance * (LEARNED_RELEVANCE if learned else 1.0)
    if score < bar:
        learnt = ", no keyword in its title" if learned else ""
        return Assessment(watch.name, "off_topic", f"{score:.0%} of its words topical for the watch "
                          f"(< {bar:.0%}{learnt}): another story", score, near[0])
    elsewhen = out_of_time(article.published, watch, knowledge)
    if elsewhen:
        return Assessment(watch.name, "off_topic", f"another event: {elsewhen}", score, near[0])
    day = day_of(article.published) if article.published else None
    if day:
        knowledge.dates.append(day)
    knowledge.day_index.published(article.url, day)
    verdicts = judge(r.sentences, r.lang, article.title, knowledge, analyzer, watch.novelty,
                     _year(article.published), article.url, terms=r.terms, vectors=r.vectors, record=record,
                     first_hand=article.first_hand)
    a = Assessment(watch.name, "no_new_claims", "every claim is known", score, near[0], verdicts, r.lang)
    if a.new:
        a.status, a.reason = "new_claims", f"{len(a.new)} new claim(s)"
    elif near[0]:
        a.status, a.reason = "duplicate", f"a copy of {near[0]} (similarity {near[1]:.2f})"
    return a


def make_alert(article: Article, a: Assessment) -> Alert:
    return Alert(
        id=digest(f"{a.watch}|{article.url}"),
        type="new_claims",
        watch=a.watch,
        article_url=article.url,
        article_title=article.title,
        article_source=article.source,
        article_published=article.published,
        claims=tuple(v.claim() for v in a.new),
        detected_at=datetime.now(UTC).isoformat(timespec="seconds"),
        extra={"lang": a.lang},
    )


def knowledge_of(watch: str, ctx: Context) -> Knowledge:
    """The watch's index, rebuilt from Redis if a failed job may have left it ahead of what Redis holds."""
    if watch in ctx.stale:
        old = ctx.knowledge[watch]
        fresh = Knowledge(watch, old.analyzer, old.encoder)
        fresh.sync(ctx.store)
        ctx.knowledge[watch] = fresh
        ctx.stale.discard(watch)
        log.warning("watch %s: index rebuilt from Redis after a failed job (%d known sentences)",
                    watch, len(fresh.items))
    return ctx.knowledge[watch]


def _judge_and_register(article: Article, watch: WatchSettings, ctx: Context, learned: bool = False) -> Assessment:
    """Judge and register, or leave no trace: jobs run one after another in one process (``workers.worker``),
    so an index that took an article's sentences which then never reached Redis (an error, a timeout)
    is marked stale and rebuilt before its next use."""
    knowledge = knowledge_of(watch.name, ctx)
    dates = len(knowledge.dates)
    try:
        return _judge_and_register_in(article, watch, ctx, knowledge, learned)
    except BaseException:
        if knowledge.held != knowledge.synced or len(knowledge.dates) != dates:  # (or a sync's dates)
            ctx.stale.add(watch.name)
        raise


def _judge_and_register_in(article: Article, watch: WatchSettings, ctx: Context, knowledge: Knowledge,
                           learned: bool) -> Assessment:
    store = ctx.store
    chash, sig = dedup.fingerprints(article.text)
    alert_id = digest(f"{watch.name}|{article.url}")
    # the article's own analysis (and its sentence vectors, the costly part) needs no lock, nor its
    # relevance to what this process knows so far: under the lock, it is scored again only if other
    # workers added to the knowledge meanwhile. Encode only an article that looks relevant.
    knowledge.sync(store)
    reading = read(article, ctx.analyzer)
    score = relevance(reading.terms, knowledge, reading.lang)
    reading = replace(reading, relevance=(knowledge.synced, score))
    if knowledge.encoder is not None and score >= watch.novelty.relevance:
        wanted = candidates(reading.sentences, reading.terms, reading.lang, article.title, ctx.analyzer,
                            watch.novelty, _year(article.published), article.first_hand)
        reading = replace(reading, vectors=knowledge.encode([strip_dateline(s) for s in reading.sentences], wanted))
    with _novelty_lock(store, watch.name):
        saved = store.alerts.saved(alert_id)
        if saved:  # judged and registered before a crash: only the deliveries may be missing
            alert = Alert.from_dict(saved)
            return Assessment(watch.name, "new_claims", f"{len(alert.claims)} new claim(s), registered before",
                              alert=alert)
        knowledge.sync(store)
        owner = store.dedup.content_owner(watch.name, chash, article.url)
        if owner:
            return Assessment(watch.name, "duplicate", f"the same text as {owner}", 1.0, owner)
        near = dedup.nearest_copy(store, watch.name, sig, watch.novelty.near_duplicate, exclude=article.url)
        before = len(knowledge.items)
        a = assess(article, watch, knowledge, ctx.analyzer, ctx.queries[watch.name], near, reading, learned)
        if a.status == "no_match":
            return a
        dedup.index(store, watch.name, article.url, sig)
        added = knowledge.items[before:]
        alert = make_alert(article, a) if a.new else None
        store.known.register(
            watch.name, [knowledge.record(k, a.lang, article.published) for k in added],
            alert.to_dict() if alert else None,
            {"id": alert.id, "watch": alert.watch, "url": alert.article_url, "title": alert.article_title,
             "claims": [c.to_dict() for c in alert.claims], "detected_at": alert.detected_at} if alert else None)
        knowledge.synced += len(added)
        if a.status in ("new_claims", "no_new_claims"):  # about the watch: its topical words teach the poller
            store.known.add_profile(watch.name, knowledge.topical_stems((k.terms for k in added), a.lang))
        a.alert = alert
        return a


@contextlib.contextmanager
def _novelty_lock(store: Store, watch: str) -> Iterator[None]:
    """The watch's novelty lock; the time waited for it and held go to ``cw:latency`` (after release):
    with several workers, the held share of a job bounds how far they scale."""
    asked, got, released = time.monotonic(), 0.0, 0.0
    try:
        with store.known.lock(watch):
            got = time.monotonic()
            try:
                yield
            finally:
                released = time.monotonic()
    finally:
        if got and released:
            with contextlib.suppress(redis.RedisError):
                store.metrics.observe_many({"novelty_lock_wait": got - asked, "novelty_lock_held": released - got})


def process_entry(entry: Entry, ctx: Context, *, last_try: bool = True) -> Outcome:
    """``last_try``: no retry is left, so a page that fails for now gives way to the feed's summary."""
    store = ctx.store
    record = store.articles.get(entry.url)
    if record.get("status") == "done":  # a retry after a crash: its alerts may not have gone out
        saved = (store.alerts.saved(digest(f"{watch}|{entry.url}")) for watch in entry.watches)
        return Outcome([], [Alert.from_dict(a) for a in saved if a])
    article = fetch_article(entry, ctx.client, ctx.settings.network, ctx.store, last_try=last_try)
    # the record holds what is read back (the title, source and reasons are in the log and the alert)
    store.articles.save(entry.url, {"status": "processing", "from_summary": int(article.from_summary)})
    out = []
    for name in entry.watches:
        watch = ctx.settings.watch(name)
        a = _judge_and_register(article, watch, ctx, name in entry.learned)
        out.append(a)
        store.metrics.count(f"articles:{a.status}")
        log.info("%s [%s] %s: %s", entry.url, name, a.status, a.reason)
        store.articles.save(entry.url, {f"watch:{name}": a.status,
                                       **({"duplicate_of": a.duplicate_of} if a.duplicate_of else {})})
    store.articles.save(entry.url, {"status": "done"})
    return Outcome(out, [a.alert for a in out if a.alert is not None], article)
