"""A worker process's long-lived state, built once at start (nothing is loaded lazily per job)."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import redis
from rq import Queue

from monitor import http
from monitor.filters import Query, watch_query
from monitor.queue import queues
from monitor.settings import Settings
from monitor.store import Store
from workers import embed, extract
from workers.knowledge import Knowledge
from workers.seed import ensure_seeded
from workers.sinks import build_sinks
from workers.sinks.base import Sink
from workers.text import Analyzer


@dataclass
class Context:
    """A worker's long-lived state: what judging needs (``workers.pipeline.Context``) and what
    delivering needs (the alerts queue, the sinks: ``workers.jobs``)."""

    settings: Settings
    store: Store
    analyzer: Analyzer
    client: httpx.Client
    alerts_queue: Queue | None
    sinks: list[Sink]
    queries: dict[str, Query]
    knowledge: dict[str, Knowledge] = field(default_factory=dict)
    stale: set[str] = field(default_factory=set)  # watches whose index a failed job may have left ahead of Redis


def boot(settings: Settings, connection: redis.Redis | None, *, analyzer: Analyzer | None = None,
         eager: bool = True) -> Context:
    """Load the language resources, seed every watch, and index what each watch knows.

    ``eager``: load every language, the extractor's date parser and the encoder now, as a worker
    does before its first article; else each on its first use (``check``: one page, often one
    language, and the encoder only if a sentence may be a claim)."""
    analyzer = analyzer or Analyzer()
    if eager:
        extract.warm_up()
        analyzer.load()
    encoder = embed.load(settings.service.embeddings, eager=eager)
    store = Store(connection) if connection is not None else None
    ctx = Context(
        settings=settings,
        store=store,  # type: ignore[arg-type]
        analyzer=analyzer,
        client=http.make_client(settings.network),
        alerts_queue=queues(connection)[0] if connection is not None else None,
        sinks=build_sinks(settings.alerts),
        queries={w.name: watch_query(w) for w in settings.watches},
    )
    for watch in settings.watches:
        if store is not None:
            ensure_seeded(watch, store, analyzer, encoder)
        knowledge = Knowledge(watch.name, analyzer, encoder)
        if store is not None:
            knowledge.sync(store)
            seed = [k for k in knowledge.items if k.kind == "seed"]  # what the poller looks for beyond keywords
            for lang in {k.lang for k in seed}:
                stems = knowledge.topical_stems((k.terms for k in seed if k.lang == lang), lang)
                store.known.add_profile(watch.name, stems)
        ctx.knowledge[watch.name] = knowledge
    return ctx
