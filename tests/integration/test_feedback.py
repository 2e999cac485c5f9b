"""Feedback that teaches (monitor.desk.actions -> Redis + job -> workers.feedback): a known fact stops
the claim that repeats it from alerting; "not new" marks the claim and links it; "not about this
watch" lowers the relevance of articles told in that article's words; all of it for every worker."""

from __future__ import annotations

import redis
from rq import Queue
from test_pipeline import (  # noqa: F401 (fixtures)
    ARTICLE_A,
    KNOWN_1,
    NEW_FACT,
    WATCH,
    Server,
    analyzer,
    ctx,
    entry,
    page,
    server,
    settings,
)

from monitor.desk.actions import submit
from monitor.models import Article
from monitor.queue import ALERTS
from monitor.settings import Settings
from monitor.store.claims import claim_id
from workers import jobs
from workers.knowledge import Knowledge
from workers.pipeline import read
from workers.relevance import relevance
from workers.runtime import Context


def _apply_queued(ctx: Context, redis_client: redis.Redis) -> list[str]:  # noqa: F811
    """What a worker does with the feedback jobs on the queue (the job's own entry point)."""
    jobs.install(ctx)
    q = Queue(ALERTS, connection=redis_client)
    out = []
    for job in q.jobs:
        assert job.func_name == "workers.jobs.apply_feedback"
        out.append(jobs.apply_feedback(*job.args))
        job.delete()
    return out


def test_a_known_fact_stops_its_claim_from_alerting(ctx: Context, server: Server, settings: Settings,  # noqa: F811
                                                    redis_client: redis.Redis) -> None:
    rec = submit(ctx.store, redis_client, settings, "fact", WATCH, text=NEW_FACT)
    assert rec["status"] == "queued"
    (done,) = _apply_queued(ctx, redis_client)
    assert done == "1 known sentence(s) added"
    assert ctx.store.feedback.get(rec["id"])["status"] == "applied"  # type: ignore[index]
    server.pages["/fb-a"] = page("Shells hit school in Belgorod region", ARTICLE_A)
    (a,) = jobs.handle_entry(entry(server, "/fb-a"), ctx)
    assert a.status != "new_claims" and not a.new, [(v.verdict, v.reason) for v in a.verdicts]
    near = [v for v in a.verdicts if v.sentence == NEW_FACT][0]
    assert near.verdict == "known" and near.nearest == NEW_FACT


def test_not_new_marks_the_claim_and_links_it(ctx: Context, server: Server, settings: Settings,  # noqa: F811
                                              redis_client: redis.Redis) -> None:
    server.pages["/fb-n"] = page("Shells hit school in Belgorod region", ARTICLE_A)
    (a,) = jobs.handle_entry(entry(server, "/fb-n"), ctx)
    assert a.status == "new_claims"
    Queue(ALERTS, connection=redis_client).empty()  # the alert's delivery: not this test's
    cid = claim_id(WATCH, NEW_FACT)
    rec = submit(ctx.store, redis_client, settings, "not_new", WATCH, claim=cid, repeats=KNOWN_1)
    claim = ctx.store.claims.get(WATCH, cid)
    assert claim is not None and claim["feedback"]["kind"] == "not_new" and claim["feedback"]["repeats"] == KNOWN_1
    (done,) = _apply_queued(ctx, redis_client)
    assert "known" in done
    fed = [r for r in ctx.store.known.read(WATCH) if r.kind == "feedback"]
    assert [(r.text, r.source) for r in fed] == [(NEW_FACT, f"feedback:{rec['id']}")]


def test_off_topic_lowers_relevance_for_every_worker(ctx: Context, server: Server, settings: Settings,  # noqa: F811
                                                     redis_client: redis.Redis) -> None:
    server.pages["/fb-o"] = page("Shells hit school in Belgorod region", ARTICLE_A)
    e = entry(server, "/fb-o")
    jobs.handle_entry(e, ctx)
    Queue(ALERTS, connection=redis_client).empty()
    article = ctx.store.articles.page(e.url)
    assert article is not None


    reading = read(Article.from_dict(article), ctx.analyzer)
    before = relevance(reading.terms, ctx.knowledge[WATCH], reading.lang)
    submit(ctx.store, redis_client, settings, "off_topic", WATCH, url=e.url)
    (done,) = _apply_queued(ctx, redis_client)
    assert done.endswith("count against relevance") and not done.startswith("0 ")
    after = relevance(reading.terms, ctx.knowledge[WATCH], reading.lang)
    assert after < before
    other = Knowledge(WATCH, ctx.analyzer, ctx.knowledge[WATCH].encoder)  # another worker, from Redis
    other.sync(ctx.store)
    assert other.held == other.synced and other.skipped > 0
    assert relevance(reading.terms, other, reading.lang) == after
