"""Getting RQ's jobs of dead workers back into their queues promptly (``recover_jobs``).

RQ notices a dead worker's job only when its heartbeat expires, and only in a live worker's
maintenance; ``claimwatch run`` knows when a worker process dies (its name says its pid,
``worker_name``) and hands its jobs back at once, and a service starting on its own embedded Redis
hands back every job (nothing can be running).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable, Sequence

import redis
from rq import Queue
from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.scheduler import RQScheduler
from rq.utils import parse_composite_key
from rq.worker import Worker

log = logging.getLogger(__name__)

MAX_RERUNS = 3  # an interrupted job without retries of its own is re-queued at most this often
_INTERRUPTED = ("AbandonedJobError", "Work-horse terminated unexpectedly")


def worker_name(pid: int, generation: int = 0, host: str | None = None) -> str:
    """The RQ name of a `claimwatch worker` process: ``run`` knows whose jobs to recover when a pid dies."""
    return f"cw-{host or socket.gethostname()}-{pid}-{generation}"


def worker_prefix(pid: int, host: str | None = None) -> str:
    return worker_name(pid, 0, host).rsplit("-", 1)[0] + "-"


def _s(v: object) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def forget_workers(connection: redis.Redis, names: Iterable[str] | None = None) -> list[str]:
    """Register the death of RQ workers (all when ``names`` is None; or those whose name starts with one)."""
    gone = []
    for w in Worker.all(connection=connection):
        if names is None or any(w.name.startswith(n) for n in names):
            w.register_death()
            gone.append(w.name)
    return gone


def release_scheduler_locks(connection: redis.Redis, queues: Sequence[Queue],
                            owners: Iterable[str] | None = None) -> int:
    """Free RQ's scheduler locks held by dead workers' schedulers (all when ``owners`` is None), so a
    live worker's scheduler takes over now instead of when the lock expires."""
    prefixes = None if owners is None else tuple(owners)
    freed = 0
    for q in queues:
        key = RQScheduler.get_locking_key(q.name)
        holder = connection.get(key)
        if holder is not None and (prefixes is None or _s(holder).startswith(prefixes)):
            freed += int(connection.delete(key))
    return freed


def recover_jobs(connection: redis.Redis, queues: Sequence[Queue], *, dead: Iterable[str] = (),
                 everything: bool = False) -> list[str]:
    """Hand the jobs of dead workers back to their queues; the ids recovered.

    RQ notices a dead worker's job only when its StartedJobRegistry entry expires (the last
    heartbeat + 60 s), and only in a worker's maintenance. This makes it prompt and complete:

    - executions of the workers named in ``dead`` (prefixes: ``claimwatch run`` saw the process die),
      or of every worker when ``everything`` (a service starting on its own embedded Redis: nothing
      can be running), are expired now;
    - RQ's own ``StartedJobRegistry.cleanup()`` then treats expired ones as abandoned: a job with
      retries left is retried (its Retry interval applies), else it is failed with AbandonedJobError;
    - an interrupted job that RQ failed (abandoned, or its horse was killed) is re-queued from the
      FailedJobRegistry, at most ``MAX_RERUNS`` times (counted in ``job.meta``): a delivery job has no
      retries of its own, and an alert must not be lost because a process was killed.
    """
    prefixes = tuple(dead)
    recovered: list[str] = []
    for q in queues:
        started = q.started_job_registry
        if everything or prefixes:
            for member in connection.zrange(started.key, 0, -1):
                key = _s(member)
                if not everything:
                    job_id, execution_id = parse_composite_key(key)
                    try:
                        owner = Execution.fetch(execution_id, job_id, connection).worker_name
                    except ValueError:
                        owner = ""  # the execution's record expired: its worker is long gone
                    if owner and not owner.startswith(prefixes):
                        continue
                connection.zadd(started.key, {key: 0}, xx=True)  # expired: RQ's cleanup takes it from here
        expired = started.get_expired_job_ids()
        started.cleanup()
        for job_id in dict.fromkeys(expired):
            job = q.fetch_job(job_id)
            if job is not None and job.get_status() in (JobStatus.SCHEDULED, JobStatus.QUEUED):
                recovered.append(job_id)
                log.warning("job %s of a dead worker re-queued (%s retries left)", job_id, job.retries_left)
        recovered += _rerun_interrupted(q)
    return recovered


def _rerun_interrupted(q: Queue, recent: int = 50) -> list[str]:
    failed = q.failed_job_registry
    out = []
    for member in q.connection.zrevrange(failed.key, 0, recent - 1):
        job_id = _s(member)
        job = q.fetch_job(job_id)
        result = job.latest_result() if job is not None else None
        if job is None or result is None or job.meta.get("cw_checked") == result.id:
            continue
        reason = result.exc_string or ""
        if not any(k in reason for k in _INTERRUPTED):
            _mark_checked(job, result.id)
            continue
        reruns = int(job.meta.get("cw_reruns", 0))
        if reruns >= MAX_RERUNS:
            log.error("job %s interrupted %d times: left in the failed jobs", job_id, reruns + 1)
            _mark_checked(job, result.id)
            continue
        job.meta["cw_reruns"] = reruns + 1
        job.save_meta()
        try:
            failed.requeue(job_id)
        except Exception as e:  # InvalidJobOperation: someone else got to it first
            log.info("job %s not re-queued: %s", job_id, type(e).__name__)
            continue
        out.append(job_id)
        log.warning("job %s was interrupted (%s); re-queued (%d of %d)", job_id,
                    "abandoned" if "Abandoned" in reason else "work horse killed", reruns + 1, MAX_RERUNS)
    return out


def _mark_checked(job: Job, result_id: str) -> None:
    job.meta["cw_checked"] = result_id
    job.save_meta()
