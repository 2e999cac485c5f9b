"""The RQ queues, and enqueueing jobs by dotted name (so the poller never imports the workers).

A job's description (what RQ shows and logs of it) is its function and id, never its arguments: an
entry holds its feed's URL, which may carry credentials (``http://user:pass@host/feed``)."""

from __future__ import annotations

from datetime import timedelta

import redis
from rq import Queue, Retry

from monitor.models import Entry, Message
from monitor.store import digest

ENTRIES = "claimwatch-entries"
ALERTS = "claimwatch-alerts"
PROCESS_ENTRY = "workers.jobs.process_entry"
DELIVER_ALERT = "workers.jobs.deliver_alert"
APPLY_FEEDBACK = "workers.jobs.apply_feedback"
JOB_TIMEOUT = 300  # seconds one article may take
RESULT_TTL = 3600


def queues(connection: redis.Redis) -> tuple[Queue, Queue]:
    """(alerts, entries): a worker takes deliveries first so alerts never wait behind articles."""
    return Queue(ALERTS, connection=connection), Queue(ENTRIES, connection=connection)


def entry_job_id(entry: Entry) -> str:
    return f"entry-{digest(entry.url or entry.guid)}"


def enqueue_entry(queue: Queue, entry: Entry) -> None:
    """One job per entry; the id is deterministic, so a second enqueue of the same entry is a no-op."""
    job_id = entry_job_id(entry)
    if queue.fetch_job(job_id) is not None:
        return
    queue.enqueue(PROCESS_ENTRY, entry.to_dict(), job_id=job_id, description=f"process_entry {job_id}",
                  job_timeout=JOB_TIMEOUT, result_ttl=RESULT_TTL, failure_ttl=7 * 86400,
                  retry=Retry(max=3, interval=[10, 60, 300]))


def delivery_job_id(alert_id: str, sink: str, attempt: int = 0, generation: int = 0, hops: int = 0) -> str:
    """Deterministic per (alert, sink, attempt); ``generation`` > 0 for a manual resend (``claimwatch
    alerts retry``), ``hops`` > 0 for a send the rate limiter deferred (it holds a reserved slot)."""
    job_id = f"deliver-{alert_id}-{digest(sink, 4)}-{attempt}"
    if generation:
        job_id += f"-g{generation}"
    if hops:
        job_id += f"-s{hops}"
    return job_id


def enqueue_delivery(
    queue: Queue,
    alert: Message,
    sink: str,
    attempt: int = 0,
    delay: float = 0.0,
    *,
    generation: int = 0,
    hops: int = 0,
) -> None:
    """One RQ job delivering ``alert`` (or a digest) to ``sink`` (``workers.jobs.deliver_alert``), now or
    after ``delay`` seconds (retries, rate-limited sends: the worker never sleeps).
    Immediate enqueues are idempotent."""
    job_id = delivery_job_id(alert.id, sink, attempt, generation, hops)
    kwargs = dict(job_id=job_id, description=f"deliver_alert {job_id}", job_timeout=60, result_ttl=RESULT_TTL,
                  failure_ttl=7 * 86400)
    args: tuple = (alert.to_dict(), sink, attempt)
    if generation or hops:
        args += (generation, hops)
    if delay > 0:
        queue.enqueue_in(timedelta(seconds=delay), DELIVER_ALERT, *args, **kwargs)
    elif queue.fetch_job(job_id) is None:
        queue.enqueue(DELIVER_ALERT, *args, **kwargs)


def enqueue_feedback(queue: Queue, feedback_id: str) -> None:
    """One job applying a user's feedback (``workers.jobs.apply_feedback``); on the alerts queue, which
    workers take first, so it is applied before the next article is judged. A page to fetch may fail
    for now: retried as an entry's is."""
    queue.enqueue(APPLY_FEEDBACK, feedback_id, job_id=f"feedback-{feedback_id}", job_timeout=JOB_TIMEOUT,
                  result_ttl=RESULT_TTL, failure_ttl=7 * 86400, retry=Retry(max=3, interval=[10, 60, 300]))
