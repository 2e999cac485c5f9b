"""The only RQ entry points. Errors map to retries: TransientError -> later, PermanentError -> stop.

A worker process calls ``install(ctx)`` once at start (``claimwatch worker``); jobs then find their
long-lived state there. RQ enqueues these by dotted name (monitor.queue), so the poller never
imports this module.
"""

from __future__ import annotations

import logging
from typing import Any

from rq import get_current_job

from monitor.digests import digest_sinks
from monitor.errors import ConfigError, PermanentError, TransientError
from monitor.models import Alert, Entry, message_from_dict
from monitor.queue import enqueue_delivery
from workers import delivery, feedback, history, pipeline
from workers.runtime import Context
from workers.sinks import sinks_for

log = logging.getLogger(__name__)
_ctx: Context | None = None


def install(ctx: Context) -> None:
    global _ctx
    _ctx = ctx


def context() -> Context:
    if _ctx is None:
        raise RuntimeError("worker context not installed: start jobs with `claimwatch worker`")
    return _ctx


def process_entry(entry: dict[str, Any]) -> list[str]:
    """entry -> article -> claims -> alert. Transient errors propagate: RQ's Retry re-runs the job; on
    its last try a page that fails for now gives way to the feed's summary."""
    ctx = context()
    job = get_current_job()
    last_try = job is None or not job.retries_left
    return [a.status for a in handle_entry(Entry.from_dict(entry), ctx, last_try=last_try)]


def handle_entry(entry: Entry, ctx: Context, *, last_try: bool = True) -> list[pipeline.Assessment]:
    """Judge the entry (``workers.pipeline``), then enqueue each alert's deliveries, one job per sink
    not yet sent to (deterministic job ids: a re-run enqueues no second job), then keep what the
    desk shows of it (``workers.history``)."""
    outcome = pipeline.process_entry(entry, ctx, last_try=last_try)
    for alert in outcome.alerts:
        enqueue_deliveries(alert, ctx)
    history.record(ctx.store, outcome, entry)
    return outcome.assessments


def apply_feedback(feedback_id: str) -> str:
    """A user's feedback (``monitor.store.feedback``) applied to the watch's knowledge; marked applied,
    or failed with the reason (a page that cannot be fetched, a watch no longer configured)."""
    ctx = context()
    item = ctx.store.feedback.get(feedback_id)
    if item is None:
        return "no such feedback"
    try:
        done = feedback.apply(item, ctx)
    except (PermanentError, ConfigError, KeyError, ValueError) as e:
        ctx.store.feedback.mark(feedback_id, "failed", result=str(e))
        return f"failed: {e}"
    ctx.store.feedback.mark(feedback_id, "applied", result=done)
    log.info("feedback %s (%s, watch %s): %s", feedback_id, item["kind"], item["watch"], done)
    return done


def enqueue_deliveries(alert: Alert, ctx: Context) -> None:
    """One delivery job per sink in "each" mode (with at least its ``min_claims``); a digest sink holds
    the alert for its next digest instead (``monitor.digests``: the poller forms and enqueues it)."""
    digests = {s.name for s in digest_sinks(ctx.settings)}
    for sink in sinks_for(ctx.sinks, alert.watch):
        if sink.name in digests:
            if ctx.store.digests.buffer(sink.name, alert.to_dict()):
                log.info("alert %s held for sink %s's next digest", alert.id, sink.name)
        elif len(alert.claims) < _min_claims(ctx, sink.name):
            continue
        elif ctx.alerts_queue is not None and not ctx.store.deliveries.sent(alert.id, sink.name):
            enqueue_delivery(ctx.alerts_queue, alert, sink.name)


def _min_claims(ctx: Context, sink_name: str) -> int:
    index = int(sink_name.partition(":")[0])
    return ctx.settings.alerts[index].min_claims if index < len(ctx.settings.alerts) else 1


def deliver_alert(alert: dict[str, Any], sink_name: str, attempt: int = 0, generation: int = 0, hops: int = 0) -> str:
    """One alert (or digest) to one sink. ``attempt`` counts failed sends; ``generation`` is set by a manual resend;
    ``hops`` > 0 means the rate limiter deferred this send and it holds a slot."""
    ctx = context()
    a = message_from_dict(alert)
    sink = next((s for s in ctx.sinks if s.name == sink_name), None)
    if sink is None:
        log.warning("alert %s: sink %s is no longer configured; dropped", a.id, sink_name)
        return "no such sink"
    wait = delivery.slot_wait(a, sink, ctx.store, reserved=hops > 0)
    if wait > 0:
        enqueue_delivery(ctx.alerts_queue, a, sink.name, attempt, wait,  # type: ignore[arg-type]
                         generation=generation, hops=hops + 1)
        return f"rate limited: sending in {wait:.2f} s"
    try:
        return "sent" if delivery.deliver(a, sink, ctx.store, ctx.client) else "already sent"
    except TransientError as e:
        if attempt + 1 >= delivery.MAX_ATTEMPTS:
            delivery.give_up(a, sink, ctx.store, e, attempt + 1)
            return "gave up"
        delay = delivery.retry_delay(attempt, e)
        log.info("alert %s to sink %s: %s; retry %d in %.1f s", a.id, sink.name, e.kind, attempt + 1, delay)
        enqueue_delivery(ctx.alerts_queue, a, sink.name, attempt + 1, delay,  # type: ignore[arg-type]
                         generation=generation)
        return f"retry in {delay:.1f} s"
    except PermanentError as e:
        delivery.give_up(a, sink, ctx.store, e, attempt + 1)
        return "failed"
