"""The worker runs jobs in its own long-lived process, and stays crash safe without a work horse.

Real Redis; the workers run in forked children so that a watchdog exit or a recycle is observable.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from typing import Any

import redis
from rq import Queue
from rq.job import JobStatus

from monitor.broker import connect, recover_jobs
from monitor.store import Store
from workers import worker as worker_module
from workers.worker import PreloadedWorker

_KEPT: list[bytearray] = []  # what _grow keeps alive in the worker process


def _pid() -> int:
    return os.getpid()


def _stuck() -> None:
    """A job stuck where Python's timeout cannot reach it (as in C code): SIGALRM blocked."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(60)


def _grow(mib: int) -> int:
    _KEPT.append(bytearray(os.urandom(1024)) * (mib * 1024))  # touched: resident
    return len(_KEPT)


def _worker(url: str, queue: str, name: str, **attrs: Any) -> PreloadedWorker:
    connection = connect(url)
    w = PreloadedWorker([Queue(queue, connection=connection)], connection=connection, name=name)
    w.store = Store(connection)
    for k, v in attrs.items():
        setattr(w, k, v)
    return w


def _work_in_child(url: str, queue: str, name: str, hang_grace: int) -> None:
    worker_module.HANG_GRACE = hang_grace
    _worker(url, queue, name).work(burst=True)


def test_jobs_run_in_the_worker_process_one_after_another(redis_client: redis.Redis, redis_url: str) -> None:
    q = Queue("cw-test-inproc", connection=redis_client)
    jobs = [q.enqueue(f"{__name__}._pid") for _ in range(3)]
    w = _worker(redis_url, q.name, "cw-test-inproc-w")
    w.work(burst=True)
    pids = {j.fetch(j.id, connection=redis_client).return_value() for j in jobs}
    assert pids == {os.getpid()}  # no fork per job: what one job warms, the next one finds


def test_a_job_stuck_beyond_its_timeout_ends_the_process_and_goes_back_to_the_queue(
        redis_client: redis.Redis, redis_url: str) -> None:
    q = Queue("cw-test-stuck", connection=redis_client)
    job = q.enqueue(f"{__name__}._stuck", job_timeout=1)
    ctx = multiprocessing.get_context("fork")
    name = f"cw-test-stuck-{os.getpid()}"
    child = ctx.Process(target=_work_in_child, args=(redis_url, q.name, name, 1))
    started = time.monotonic()
    child.start()
    child.join(30)
    took = time.monotonic() - started
    if child.is_alive():
        child.kill()
        child.join()
        raise AssertionError("the watchdog did not end a worker stuck in a job")
    assert child.exitcode == 1 and took < 20, (child.exitcode, took)  # faulthandler's exit, ~timeout + grace
    assert job.get_status(refresh=True) == JobStatus.STARTED  # died mid-job: nothing marked it done
    recovered = recover_jobs(redis_client, [q], dead=[name])  # what `run` does when a worker dies
    assert job.id in recovered
    assert job.get_status(refresh=True) in (JobStatus.QUEUED, JobStatus.SCHEDULED)


def test_a_worker_that_grew_past_its_memory_limit_stops_taking_jobs(redis_client: redis.Redis,
                                                                      redis_url: str) -> None:
    q = Queue("cw-test-grow", connection=redis_client)
    first = q.enqueue(f"{__name__}._grow", 64)
    second = q.enqueue(f"{__name__}._pid")
    w = _worker(redis_url, q.name, "cw-test-grow-w", max_growth=16 << 20, baseline=worker_module.rss_bytes())
    try:
        w.work(burst=True)
    finally:
        _KEPT.clear()
    assert first.get_status(refresh=True) == JobStatus.FINISHED
    assert w.recycle  # main() replaces the process (exec) when this is set
    assert second.get_status(refresh=True) == JobStatus.QUEUED  # left for the fresh process


def test_memory_limit_zero_never_recycles(redis_client: redis.Redis, redis_url: str) -> None:
    q = Queue("cw-test-nogrow", connection=redis_client)
    q.enqueue(f"{__name__}._grow", 32)
    q.enqueue(f"{__name__}._pid")
    w = _worker(redis_url, q.name, "cw-test-nogrow-w", max_growth=0, baseline=worker_module.rss_bytes())
    try:
        w.work(burst=True)
    finally:
        _KEPT.clear()
    assert not w.recycle and q.count == 0
