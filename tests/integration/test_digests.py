"""Digest sinks against a real Redis and a local webhook/chat server: one message per period with
everything in it, several pollers, crashes at every step between buffering and sending."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import redis
from localserver import QuietHandler, reply, serving  # noqa: I001 (tests/integration is on sys.path under pytest)
from rq import Queue

from monitor.digests import Flusher, digest_id
from monitor.models import Alert, Claim, Digest, message_from_dict
from monitor.queue import enqueue_delivery, queues
from monitor.settings import Settings, from_dict
from monitor.status import collect
from monitor.store import Store
from workers import jobs
from workers.runtime import Context
from workers.sinks import build_sinks


@dataclass
class Receiver:
    base: str = ""
    got: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)  # path, headers, JSON body
    answers: list[int] = field(default_factory=list)  # statuses to give next (then 200)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self, path: str) -> list[Any]:
        with self.lock:
            return [b for p, _h, b in self.got if p == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            with r.lock:
                r.got.append((self.path, dict(self.headers.items()), body))
                status = r.answers.pop(0) if r.answers else 200
            reply(self, status, {"Content-Type": "text/plain"}, b"ok")

    with serving(Handler) as base:
        r.base = base
        yield r


def settings(base: str, **digest: Any) -> Settings:
    cadence = digest or {"every": "1h"}
    return from_dict({
        "network": {"allow_private_addresses": True},
        "watches": [{"name": "belgorod-raids", "keywords": ["x"]}, {"name": "other", "keywords": ["y"]}],
        "alerts": [
            {"type": "webhook", "url": f"{base}/digest", "mode": "digest", "watches": ["belgorod-raids"]} | cadence,
            {"type": "mattermost", "url": f"{base}/mm", "mode": "digest", "rate": 0} | cadence,
            {"type": "webhook", "url": f"{base}/each", "min_claims": 2},
        ],
    }, env={})


@pytest.fixture
def ctx(redis_client: redis.Redis, receiver: Receiver, client: httpx.Client) -> Iterator[Context]:
    s = settings(receiver.base)
    c = Context(settings=s, store=Store(redis_client), analyzer=None, client=client,  # type: ignore[arg-type]
                alerts_queue=queues(redis_client)[0], sinks=build_sinks(s.alerts), queries={})
    jobs.install(c)
    yield c
    jobs._ctx = None  # noqa: SLF001


def alert(n: int, claims: int = 1, watch: str = "belgorod-raids", day: int = 23) -> Alert:
    return Alert(id=f"alert-{n}", type="new_claims", watch=watch, article_url=f"https://news.example.org/{n}",
                 article_title=f"Article {n} @everyone", article_source="Example News",
                 article_published=f"2023-05-{day}T10:00:00+00:00",
                 claims=tuple(Claim(f"Claim {n}.{k}: drones over Belgorod <!channel>.", "the governor")
                              for k in range(claims)),
                 detected_at=f"2023-05-{day}T10:01:00+00:00")


def at(hour: int, minute: int = 0, second: int = 0) -> float:
    return datetime(2026, 5, 1, hour, minute, second, tzinfo=UTC).timestamp()


def flusher(ctx: Context, ident: str = "poller-1") -> Flusher:
    q = ctx.alerts_queue
    assert q is not None
    return Flusher(ctx.settings, ctx.store, lambda d, sink: enqueue_delivery(q, d, sink), ident=ident)


def run_jobs(queue: Queue) -> list[str]:
    """Run every queued delivery job in this process, as a worker would; their results."""
    out = []
    for job_id in queue.get_job_ids():
        job = queue.fetch_job(job_id)
        assert job is not None
        out.append(jobs.deliver_alert(*job.args))
        queue.remove(job_id)
    return out


def claims_in(payload: dict[str, Any]) -> list[str]:
    return [c["text"] for day in payload["days"] for c in day["claims"]]


# --------------------------------------------------------------------------- one period


def test_one_message_per_period_with_everything_in_it(ctx: Context, receiver: Receiver) -> None:
    f, q = flusher(ctx), ctx.alerts_queue
    assert q is not None
    assert f.sweep(at(10, 0, 30)) == 0  # the first boundary a sink sees starts its first period
    for a in (alert(1, claims=2), alert(2, day=24), alert(3, watch="other")):
        jobs.enqueue_deliveries(a, ctx)
    assert ctx.store.digests.held("0:webhook", "belgorod-raids") == 3
    assert ctx.store.digests.held("1:mattermost", "other") == 1
    report = collect(ctx.store, ctx.store.client)["digests"]  # what `claimwatch status` shows
    assert report == {"claims_held": {"0:webhook belgorod-raids": 3, "1:mattermost belgorod-raids": 3,
                                      "1:mattermost other": 1}, "formed_not_enqueued": 0}
    assert [j.split("-")[1] for j in q.get_job_ids()] == ["alert"]  # only alert 1 (2 claims) goes to "each"
    assert run_jobs(q) == ["sent"] and len(receiver.bodies("/each")) == 1
    assert f.sweep(at(10, 59, 59)) == 0  # the period is not over
    assert f.sweep(at(11, 0, 1)) == 3  # the webhook's digest; mattermost's for each watch
    assert f.sweep(at(11, 0, 2)) == 0 and ctx.store.digests.pending() == {}
    assert run_jobs(q) == ["sent"] * 3

    (digest,) = receiver.bodies("/digest")
    assert digest["type"] == "digest" and digest["id"] == digest_id("0:webhook", "belgorod-raids", at(11))
    assert digest["until"] == "2026-05-01T11:00:00+00:00" and digest["since"] is None
    assert [d["date"] for d in digest["days"]] == ["2023-05-23", "2023-05-24"]
    assert claims_in(digest) == ["Claim 1.0: drones over Belgorod <!channel>.",
                                 "Claim 1.1: drones over Belgorod <!channel>.",
                                 "Claim 2.0: drones over Belgorod <!channel>."]
    assert digest["days"][0]["claims"][0]["first_source"]["url"] == "https://news.example.org/1"
    headers = next(h for p, h, _b in receiver.got if p == "/digest")
    assert headers["X-Claimwatch-Id"] == digest["id"] and headers["X-Claimwatch-Event"] == "digest"
    texts = sorted(b["text"] for b in receiver.bodies("/mm"))
    assert len(texts) == 2 and "other · digest" in texts[1] and "Claim 3.0" in texts[1]
    assert "@\u200beveryone" in texts[0] and "&lt;!channel&gt;" in texts[0] and "Claim 2.0" in texts[0]

    # the next period holds only what came after the first closed
    jobs.enqueue_deliveries(alert(4), ctx)
    assert f.sweep(at(11, 30)) == 0 and f.sweep(at(12, 0, 0)) == 2  # mattermost's "other" had nothing
    run_jobs(q)
    second = receiver.bodies("/digest")[1]
    assert claims_in(second) == ["Claim 4.0: drones over Belgorod <!channel>."]
    assert second["since"] == "2026-05-01T11:00:00+00:00" and second["until"] == "2026-05-01T12:00:00+00:00"
    assert f.sweep(at(13, 0, 0)) == 0  # an empty period sends nothing


def test_an_alert_joins_one_digest_however_often_its_job_runs(ctx: Context, receiver: Receiver) -> None:
    f, q = flusher(ctx), ctx.alerts_queue
    assert q is not None
    f.sweep(at(10))
    for _ in range(3):  # the entry job re-run after crashes: it returns the alert registered before
        jobs.enqueue_deliveries(alert(1), ctx)
    assert ctx.store.digests.held("0:webhook", "belgorod-raids") == 1
    f.sweep(at(11))
    jobs.enqueue_deliveries(alert(1), ctx)  # ... even once its digest has formed
    assert ctx.store.digests.held("0:webhook", "belgorod-raids") == 0
    run_jobs(q)
    assert run_jobs(q) == [] and len(receiver.bodies("/digest")) == 1
    assert ctx.store.deliveries.status("alert-1", "0:webhook") == "digest"


def test_min_claims_waits_for_the_next_period(redis_client: redis.Redis, receiver: Receiver,
                                              client: httpx.Client) -> None:
    s = from_dict({"network": {"allow_private_addresses": True}, "watches": [{"name": "w", "keywords": ["x"]}],
                   "alerts": [{"type": "webhook", "url": f"{receiver.base}/digest", "mode": "digest",
                               "every": "1h", "min_claims": 3}]}, env={})
    store = Store(redis_client)
    c = Context(settings=s, store=store, analyzer=None, client=client,  # type: ignore[arg-type]
                alerts_queue=queues(redis_client)[0], sinks=build_sinks(s.alerts), queries={})
    f = flusher(c)
    f.sweep(at(10))
    jobs.enqueue_deliveries(alert(1, claims=2, watch="w"), c)
    assert f.sweep(at(11)) == 0 and store.digests.held("0:webhook", "w") == 2  # 2 < 3: it waits
    jobs.enqueue_deliveries(alert(2, watch="w"), c)
    assert f.sweep(at(11, 30)) == 0  # enough now, but a digest goes out at a boundary only
    assert f.sweep(at(12)) == 1


# --------------------------------------------------------------------------- several pollers


def test_several_pollers_form_and_enqueue_each_digest_once(ctx: Context) -> None:
    q = ctx.alerts_queue
    assert q is not None
    flushers = [flusher(ctx, f"poller-{i}") for i in range(6)]
    flushers[0].sweep(at(10))
    enqueued: list[int] = []
    for hour in (11, 12, 13):
        for n in range(5):
            jobs.enqueue_deliveries(alert(hour * 10 + n), ctx)
        barrier = threading.Barrier(len(flushers))

        def sweep(f: Flusher, now: float, barrier: threading.Barrier) -> None:
            barrier.wait()
            enqueued.append(f.sweep(now))

        threads = [threading.Thread(target=sweep, args=(f, at(hour, 0, 1), barrier)) for f in flushers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sum(enqueued) == 6  # 3 periods x (webhook + mattermost's belgorod-raids)
    ids = q.get_job_ids()
    assert len(ids) == len(set(ids)) == 6
    assert ctx.store.digests.pending() == {}


# --------------------------------------------------------------------------- crashes


def test_a_poller_killed_after_forming_a_digest_loses_nothing(ctx: Context, receiver: Receiver) -> None:
    f, q, store = flusher(ctx), ctx.alerts_queue, ctx.store
    assert q is not None
    f.sweep(at(10))
    jobs.enqueue_deliveries(alert(1), ctx)
    # the poller forms the digest (the script) and dies before enqueueing it, holding its lease
    did = digest_id("0:webhook", "belgorod-raids", at(11))
    assert store.digests.flush("0:webhook", "belgorod-raids", at(11), did) == did
    assert store.digests.lease(did, "dead-poller")
    assert f.sweep(at(11, 0, 5)) == 1  # mattermost's; the webhook's waits for its lease
    assert list(store.digests.pending()) == [did]
    assert store.clear_leases() >= 1  # `run` starting on its own Redis (else the lease expires in 60 s)
    assert f.sweep(at(11, 0, 6)) == 1 and store.digests.pending() == {}
    run_jobs(q)
    (digest,) = receiver.bodies("/digest")
    assert digest["id"] == did and claims_in(digest) == ["Claim 1.0: drones over Belgorod <!channel>."]


def test_a_poller_killed_after_enqueueing_enqueues_nothing_twice(ctx: Context, receiver: Receiver) -> None:
    f, q, store = flusher(ctx), ctx.alerts_queue, ctx.store
    assert q is not None
    # a poller that enqueues, then dies before dropping the batch: the digest stays pending
    dying = Flusher(ctx.settings, Store(store.client), lambda d, sink: enqueue_delivery(q, d, sink), ident="dying")
    dying.store.digests.done = lambda _id: None  # type: ignore[method-assign]  (killed before this)
    f.sweep(at(10))

    jobs.enqueue_deliveries(alert(1), ctx)
    assert dying.sweep(at(11, 0, 1)) == 2 and len(store.digests.pending()) == 2
    store.clear_leases()
    assert f.sweep(at(11, 0, 2)) == 2 and store.digests.pending() == {}  # enqueued again ...
    assert len(q.get_job_ids()) == 2  # ... under the same job ids: no second job
    assert run_jobs(q) == ["sent", "sent"]

    jobs.enqueue_deliveries(alert(2), ctx)
    assert dying.sweep(at(12, 0, 1)) == 2
    assert run_jobs(q) == ["sent", "sent"]  # delivered, and its job gone (results expire) ...
    store.clear_leases()
    assert f.sweep(at(12, 0, 2)) == 0 and store.digests.pending() == {}  # ... the recorded send stops it
    assert [claims_in(b) for b in receiver.bodies("/digest")] == [
        ["Claim 1.0: drones over Belgorod <!channel>."], ["Claim 2.0: drones over Belgorod <!channel>."]]


def test_a_worker_killed_mid_digest_delivery(ctx: Context, receiver: Receiver) -> None:
    """The delivery job is RQ's: killed before it sent, it runs again and sends once; killed after the
    service accepted the digest but before the send was recorded, it sends again, the same digest id
    (a webhook receiver drops it by X-Claimwatch-Id; a chat room shows it twice): at least once."""
    f, q = flusher(ctx), ctx.alerts_queue
    assert q is not None
    f.sweep(at(10))
    jobs.enqueue_deliveries(alert(1), ctx)
    f.sweep(at(11))
    job = next(q.fetch_job(i) for i in q.get_job_ids() if "digest" in i and q.fetch_job(i).args[1] == "0:webhook")
    assert job is not None
    sink = next(s for s in ctx.sinks if s.name == "0:webhook")
    sink.send(Digest.from_dict(job.args[0]), ctx.client)  # sent; the worker dies before recording it
    assert jobs.deliver_alert(*job.args) == "sent"  # RQ re-runs the job
    assert jobs.deliver_alert(*job.args) == "already sent"  # recorded now: never again
    first, second = receiver.bodies("/digest")
    assert first == second


def test_a_failing_digest_is_retried_then_a_dead_letter_and_resent(ctx: Context, receiver: Receiver) -> None:
    f, q, store = flusher(ctx), ctx.alerts_queue, ctx.store
    assert q is not None
    f.sweep(at(10))
    jobs.enqueue_deliveries(alert(1), ctx)
    f.sweep(at(11))
    (job,) = [q.fetch_job(i) for i in q.get_job_ids() if q.fetch_job(i).args[1] == "0:webhook"]
    receiver.answers = [503, 410]
    assert jobs.deliver_alert(*job.args).startswith("retry in")
    assert jobs.deliver_alert(job.args[0], job.args[1], 1) == "failed"
    (dead,) = store.deliveries.dead_letters()
    assert dead["sink"] == "0:webhook" and dead["alert"]["type"] == "digest"
    resent = message_from_dict(store.deliveries.take_dead_letters("0:webhook")[0]["alert"])
    assert isinstance(resent, Digest)
    store.deliveries.clear(resent.id, "0:webhook")
    assert jobs.deliver_alert(resent.to_dict(), "0:webhook", 0, 1) == "sent"
    assert claims_in(receiver.bodies("/digest")[-1]) == ["Claim 1.0: drones over Belgorod <!channel>."]
