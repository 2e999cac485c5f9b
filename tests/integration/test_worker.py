"""The worker runs jobs in its own long-lived process, and stays crash safe without a work horse.

Real Redis; the workers run in forked children so that a watchdog exit or a recycle is observable.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from rq import Queue, Retry
from rq.job import JobStatus
from rq.scheduler import RQScheduler

from monitor import http
from monitor.broker import connect, recover_jobs, release_scheduler_locks, worker_name, worker_prefix
from monitor.models import Entry
from monitor.settings import NetworkSettings
from monitor.store import Store
from workers import worker as worker_module
from workers.fetch import fetch_article
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


def test_the_scheduler_is_named_after_its_worker_and_its_lock_freed_with_it(redis_client: redis.Redis,
                                                                             redis_url: str) -> None:
    q = Queue("cw-test-sched", connection=redis_client)
    name = worker_name(os.getpid(), 0, "sched-host")
    w = _worker(redis_url, q.name, name)
    w.start_scheduler(burst=False, logging_level="WARNING")
    try:
        assert w.scheduler is not None and w.scheduler.name == f"{name}-scheduler"
        holder = redis_client.get(RQScheduler.get_locking_key(q.name))
        assert holder == f"{name}-scheduler".encode()  # `run` knows it by its worker's pid
        assert release_scheduler_locks(redis_client, [q], owners=[worker_prefix(os.getpid(), "other")]) == 0
        assert release_scheduler_locks(redis_client, [q], owners=[worker_prefix(os.getpid(), "sched-host")]) == 1
    finally:
        if w.scheduler is not None:
            w.stop_scheduler()


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


# --------------------------------------------------------------------------- stopping mid-job

_HERE = Path(__file__).resolve().parent
_CHILD = """
import faulthandler, logging, signal, sys
faulthandler.register(signal.SIGUSR1)  # the test asks for the stacks of a worker that does not stop
sys.path.insert(0, {here!r})
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
from rq import Queue
from monitor.broker import connect
from monitor.store import Store
from workers.worker import PreloadedWorker
c = connect({url!r})
w = PreloadedWorker([Queue({queue!r}, connection=c)], connection=c, name={name!r})
w.store = Store(c)
w.work(burst=True)
print("worker done", flush=True)
"""


def _fetch_page(url: str, redis_url: str) -> str:
    """The fetch stage on a page, as process_entry runs it (its own deadline: 60 s here)."""
    net = NetworkSettings(allow_private_addresses=True, timeout=5.0, page_deadline=60.0)
    entry = Entry(watches=("w",), feed_url=url, feed_name="f", url=url, link=url, guid=url)
    with http.make_client(net) as client:
        return fetch_article(entry, client, net, Store(connect(redis_url))).text


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


@contextmanager
def _trickling() -> Iterator[tuple[str, threading.Event]]:
    """A page that sends a byte a second for ever; the event is set when a request arrives."""
    asked, stop = threading.Event(), threading.Event()
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = server.accept()
            with conn:
                conn.recv(4096)
                asked.set()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
                while not stop.wait(1.0):
                    conn.sendall(b"<")

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/story.html", asked
    finally:
        stop.set()
        server.close()


def _stop_mid_job(redis_url: str, q: Queue, job: Any, name: str, started: threading.Event | None,
                  signals: list[float]) -> tuple[str, float]:
    """Run a worker on ``q`` in a subprocess, SIGTERM it once the job runs (then again after each
    delay in ``signals``); its output and the seconds from the first signal to its exit."""
    code = _CHILD.format(here=str(_HERE), url=redis_url, queue=q.name, name=name)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        if started is not None:
            assert started.wait(30), "the job never asked for the page"
        else:
            deadline = time.monotonic() + 30
            while job.get_status(refresh=True) != JobStatus.STARTED and time.monotonic() < deadline:
                time.sleep(0.05)
        time.sleep(0.5)
        first = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        for delay in signals:
            time.sleep(delay)
            proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGUSR1)
            time.sleep(1)
            proc.kill()
            out, _ = proc.communicate()
            raise AssertionError(f"the worker did not stop:\n{out}") from None
        return out, time.monotonic() - first
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _back_in_the_queue(q: Queue, job: Any, out: str) -> None:
    assert "Traceback" not in out and "SystemExit" not in out, out
    assert "goes back to its queue" in out, out
    assert job.get_status(refresh=True) == JobStatus.QUEUED and q.job_ids == [job.id]
    assert job.retries_left == 2  # not a failure: no retry spent
    assert q.failed_job_registry.count == 0 and q.started_job_registry.count == 0


def test_a_stop_during_a_page_fetch_ends_the_job_at_once_and_requeues_it(redis_client: redis.Redis,
                                                                        redis_url: str) -> None:
    q = Queue("cw-test-stop-fetch", connection=redis_client)
    with _trickling() as (url, asked):
        job = q.enqueue("test_worker._fetch_page", url, redis_url, job_timeout=120, retry=Retry(max=2))
        out, took = _stop_mid_job(redis_url, q, job, "cw-test-stop-fetch-w", asked, [])
    assert took < 5, (took, out)  # not the page's 60 s
    _back_in_the_queue(q, job, out)


def test_a_second_stop_signal_requeues_the_job_quietly(redis_client: redis.Redis, redis_url: str) -> None:
    # Outside a page fetch the first signal lets the job finish (warm); a second one (cold) ends it
    # where it is: RQ raised SystemExit there, a traceback and a failed job.
    q = Queue("cw-test-stop-cold", connection=redis_client)
    job = q.enqueue("test_worker._sleep", 60, job_timeout=120, retry=Retry(max=2))
    out, took = _stop_mid_job(redis_url, q, job, "cw-test-stop-cold-w", None, [1.5])
    assert took < 10, (took, out)
    _back_in_the_queue(q, job, out)


def _work_until_stopped(url: str, queue: str, name: str) -> None:
    w = _worker(url, queue, name)
    w.start_scheduler(burst=False, logging_level="WARNING")  # as workers.worker.run does
    w.work(burst=False, with_scheduler=False)


def test_the_scheduler_runs_in_a_thread_of_the_worker(redis_client: redis.Redis, redis_url: str) -> None:
    """RQ forked a copy of the whole preloaded worker to move scheduled jobs; here a thread does it."""
    from datetime import timedelta

    q = Queue("cw-test-scheduler", connection=redis_client)
    job = q.enqueue_in(timedelta(seconds=1), "test_worker._pid")
    child = multiprocessing.get_context("fork").Process(
        target=_work_until_stopped, args=(redis_url, q.name, "cw-test-scheduler-w"))
    child.start()
    try:
        deadline = time.monotonic() + 30
        while job.get_status(refresh=True) != JobStatus.FINISHED and time.monotonic() < deadline:
            time.sleep(0.1)
        assert job.get_status(refresh=True) == JobStatus.FINISHED
        assert job.return_value() == child.pid  # run by the worker itself
        kids = Path(f"/proc/{child.pid}/task/{child.pid}/children").read_text().split()
        assert kids == []  # no scheduler process
    finally:
        os.kill(child.pid, signal.SIGTERM)
        child.join(15)
    assert child.exitcode == 0
