"""`claimwatch worker`: an RQ worker that runs every job in its own, preloaded process.

The process loads trafilatura, the language data, the model and each watch's knowledge index once,
then runs job after job in place (RQ's ``SimpleWorker``), so everything a job warms (the knowledge
synced from other workers, the word and date caches) serves the next one. RQ's default, a fork per
job, threw all of that away after every article and ran at about a third of the rate.

Crash safety without a work horse (README "Operations / reliability"):

- A job that overruns its timeout is interrupted in Python (SIGALRM, RQ's death penalty). One that
  cannot be interrupted (stuck in C code) meets a watchdog that needs no GIL
  (``faulthandler.dump_traceback_later``): at timeout + ``HANG_GRACE`` the process dumps every
  thread's stack and exits; `run` starts another and hands the job back at once
  (``monitor.broker.recovery``, at most ``MAX_RERUNS`` times), as it does after kill -9, OOM or
  a segfault.
- A failed job leaves no trace in the process: the pipeline registers an article's knowledge and
  alert in one Redis transaction and, if that does not happen, rebuilds the watch's index from
  Redis (``workers.pipeline``); nothing else outlives a job.
- A worker whose memory grew by more than ``service.worker_max_memory_mb`` since it started finishes
  its job, leaves RQ cleanly and replaces itself (exec: same PID, fresh memory).
- Heartbeats: RQ's registration of a worker expires ``WORKER_TTL`` s after its last beat (+60 s
  while busy); a dead worker's job is recovered by `run` at once, and by any worker's maintenance
  once the registration has expired (other machines).
- A worker whose work loop quits (Redis away: RQ gives up on some connection errors) starts a new
  one after a pause, until SIGTERM/SIGINT, which let the current job finish (warm shutdown), unless
  the job is waiting on a page: then it ends at once (``workers.interrupt``). A job that a stop
  ends (there, or anywhere on a second signal: RQ's cold shutdown) goes back to the head of its
  queue with one log line, neither failed nor counted as a retry.
- An expected job failure (``ClaimwatchError``: a page timeout retried later) is one log line, not
  a traceback; latencies (queue wait, job time per function) go to ``cw:latency``.
- numpy's BLAS runs one thread (``claimwatch.cli`` sets it before numpy loads): `run` starts one
  worker per core.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import os
import signal
import sys
import threading
import time
from datetime import UTC, datetime

import redis
from rq import SimpleWorker
from rq.exceptions import StopRequested
from rq.scheduler import RQScheduler

from monitor.broker import connect, recover_jobs, worker_name
from monitor.errors import ClaimwatchError
from monitor.queue import queues
from monitor.settings import Settings
from monitor.store import Store
from workers import interrupt, jobs
from workers.runtime import Context, boot

log = logging.getLogger(__name__)

WORKER_TTL = 30  # seconds a worker's registration lives without a heartbeat (RQ adds 60 while idle)
JOB_MONITORING = 5  # seconds between heartbeats while a job runs
MAINTENANCE = 30  # seconds between RQ's registry clean-ups (and ours)
HANG_GRACE = 30  # seconds past a job's timeout before the watchdog ends a process stuck in C code


def rq_log_level(level: str) -> str:
    """RQ's own loggers (rq.worker, rq.job, rq.scheduler) log each job's start and end and every
    registry clean-up at INFO: 84 of an idle service's 110 lines in ten minutes. They log at DEBUG
    when the service does, else only their warnings and errors; the worker's own lines stay at INFO."""
    return "DEBUG" if level == "DEBUG" else max(level, "WARNING", key=logging.getLevelName)


def rss_bytes() -> int:
    """This process's resident memory (Linux), 0 where unknown."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class _Scheduler(RQScheduler):
    """RQ's scheduler (it moves due retries and scheduled jobs to their queues), run in a thread of its
    worker: RQ forks a process for it, a copy of the whole preloaded worker (700 MB resident, its
    private share growing as its garbage collector writes to the pages it shares with the worker). A
    thread dies with its worker, so no lock outlives a killed one; the worker's stop stops it."""

    _thread: threading.Thread | None = None

    def start(self):  # type: ignore[no-untyped-def]
        self._status = self.Status.STARTED
        self._stop_requested = False
        self._thread = threading.Thread(target=self._run, name="rq-scheduler", daemon=True)
        self._process = self._thread  # what RQ's maintenance asks: is it alive?
        self._thread.start()
        return self._thread

    def _run(self) -> None:
        try:
            self.work()
        except Exception:  # as RQ's forked scheduler: logged; the worker's maintenance starts another
            self.log.exception("scheduler stopped on an error")

    def _install_signal_handlers(self) -> None:
        """Signals go to the worker (the main thread), whose stop stops this thread."""

    def stop_thread(self, timeout: float) -> None:
        self._stop_requested = True
        if self._thread is not None:
            self._thread.join(timeout)


class PreloadedWorker(SimpleWorker):
    ctx: Context
    store: Store
    max_growth: int = 0  # bytes of memory growth after which the worker replaces itself; 0 = never
    baseline: int = 0  # RSS when the worker became ready
    recycle: bool = False
    stop_asked: bool = False  # a signal (or RQ's shutdown command, which signals) asked it to stop
    interrupted: str | None = None  # the id of the job a stop just ended

    def start_scheduler(self, burst: bool = False, logging_level: str | None = "INFO") -> None:
        """RQ's ``work(with_scheduler=True)`` does this, with a scheduler named after its worker (``run``
        frees the lock of a dead one) that dies with it: call it before ``work(with_scheduler=False)``.
        RQ keeps using ``self.scheduler`` (lock renewal in maintenance, stopped at teardown)."""
        self.scheduler = _Scheduler(self.queues, connection=self.connection, serializer=self.serializer,
                                    logging_level=logging_level if logging_level is not None else self.log.level,
                                    date_format="%H:%M:%S", log_format="%(asctime)s %(message)s",
                                    name=f"{self.name}-scheduler")
        self.scheduler.acquire_locks()
        if self.scheduler.acquired_locks:
            if burst:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            else:
                self.scheduler.start()

    def check_for_suspension(self, burst: bool) -> None:
        """RQ's check at the top of each turn of its loop; a worker to be replaced stops there, between jobs."""
        if self.recycle:
            raise StopRequested
        super().check_for_suspension(burst)

    def execute_job(self, job, queue):  # type: ignore[no-untyped-def]
        started = time.monotonic()
        if job.enqueued_at is not None:
            waited = (datetime.now(UTC) - job.enqueued_at.replace(tzinfo=UTC)).total_seconds()
            self._observe("queue_wait", waited)
        timeout = job.timeout if job.timeout and job.timeout > 0 else self.default_worker_ttl
        faulthandler.dump_traceback_later(timeout + HANG_GRACE, exit=True)
        try:
            return super().execute_job(job, queue)
        finally:
            faulthandler.cancel_dump_traceback_later()
            self._observe(f"job_{(job.func_name or 'job').rsplit('.', 1)[-1]}", time.monotonic() - started)
            self._check_memory()

    def _check_memory(self) -> None:
        if not self.max_growth or not self.baseline:
            return
        grown = rss_bytes() - self.baseline
        if grown > self.max_growth:
            self.log.warning("worker %s: memory grew by %d MiB since it started (limit %d MiB); replacing it",
                             self.name, grown >> 20, self.max_growth >> 20)
            self.recycle = True  # RQ's loop stops before the next job (check_for_suspension)

    def _observe(self, stage: str, seconds: float) -> None:
        with contextlib.suppress(redis.RedisError):
            self.store.metrics.observe(stage, seconds)

    def stop_scheduler(self) -> None:
        """RQ's version signals the scheduler's process; ours is a thread (``_Scheduler``)."""
        if isinstance(self.scheduler, _Scheduler):
            self.scheduler.stop_thread(timeout=self.scheduler.interval + 2)

    def request_stop(self, signum, frame):  # type: ignore[no-untyped-def]
        self.stop_asked = True
        super().request_stop(signum, frame)  # warm shutdown: the job finishes, then the worker stops
        if interrupt.active():  # ... unless it is waiting on a page: nothing to undo, end it now
            raise interrupt.Interrupted(signal.Signals(signum).name)

    def handle_exception(self, job, *exc_info):  # type: ignore[no-untyped-def]
        exc = exc_info[1] if len(exc_info) > 1 else None
        if isinstance(exc, interrupt.Interrupted | SystemExit):  # a stop ended it (SystemExit: RQ's cold one)
            self.log.info("job %s: the worker is stopping; the job goes back to its queue", job.id)
            self.interrupted = job.id
            return
        if isinstance(exc, ClaimwatchError):  # expected: say why in one line; RQ retries or fails the job
            left = job.retries_left
            self.log.warning("job %s failed: %s: %s%s", job.id, exc.kind, exc,
                             f" ({left} retries left)" if left else " (no retries left)")
            return
        super().handle_exception(job, *exc_info)

    def handle_job_failure(self, job, queue, started_job_registry=None, exc_string="",  # type: ignore[no-untyped-def]
                           execution=None):
        if self.interrupted != job.id:
            return super().handle_job_failure(job, queue, started_job_registry, exc_string, execution)
        self.interrupted = None
        with self.connection.pipeline() as pipe:
            self.cleanup_execution(job, pipeline=pipe, execution=execution)
            pipe.execute()
        queue.enqueue_job(job, at_front=True)  # neither failed nor a retry: the next worker starts it afresh

    def unsubscribe(self):  # type: ignore[no-untyped-def]
        """RQ's own, without its wait of up to a minute: its pubsub thread polls every 60 s, and once
        unsubscribed it may sit out that whole wait before redis-py's ``stop()`` returns (1 stop in
        about 15 took 30-60 s). The thread is a daemon: it ends with the process."""
        if self.pubsub_thread:
            self.log.info("Worker %s: unsubscribing from channel %s", self.name, self.pubsub_channel_name)
            self.pubsub.unsubscribe()
            self.pubsub_thread.stop(timeout=1)
            self.pubsub.close()

    def run_maintenance_tasks(self):  # type: ignore[no-untyped-def]
        super().run_maintenance_tasks()
        try:
            recover_jobs(self.connection, self.queues)
        except redis.RedisError as e:
            self.log.warning("job recovery skipped: Redis unreachable (%s)", type(e).__name__)


def main(settings: Settings, redis_url: str, *, burst: bool = False) -> int:
    connection = connect(redis_url)
    ctx = boot(settings, connection)
    jobs.install(ctx)
    baseline = rss_bytes()
    stopping = {"now": False}
    restarts, pause = 0, 1.0
    while True:
        worker = PreloadedWorker(list(queues(connection)), connection=connection,
                                 name=worker_name(os.getpid(), restarts), worker_ttl=WORKER_TTL,
                                 job_monitoring_interval=JOB_MONITORING, maintenance_interval=MAINTENANCE,
                                 log_job_description=False)  # a job's arguments hold URLs: ids only
        worker.ctx, worker.store = ctx, Store(connection)
        worker.max_growth, worker.baseline = settings.service.worker_max_memory_mb << 20, baseline
        if restarts == 0:
            log.info("worker %s ready: %s", worker.name, ", ".join(
                f"{w}: {len(k.items)} known sentences" for w, k in ctx.knowledge.items()))
        try:
            worker.start_scheduler(burst, rq_log_level(settings.service.log_level))
            worker.work(burst=burst, with_scheduler=False, logging_level=rq_log_level(settings.service.log_level))
        except redis.RedisError as e:  # teardown could not reach Redis either
            log.warning("worker %s: Redis unreachable (%s)", worker.name, type(e).__name__)
        if worker.recycle and not burst:
            _replace_process()
        if burst or worker.stop_asked or stopping["now"]:
            return 0
        # RQ quit its loop (Redis away mid-job, say): wait, then work again under a new name
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopping.update(now=True))
        log.warning("worker %s stopped unexpectedly; starting again in %.0f s", worker.name, pause)
        deadline = time.monotonic() + pause
        while time.monotonic() < deadline and not stopping["now"]:
            time.sleep(0.1)
        if stopping["now"]:
            return 0
        restarts, pause = restarts + 1, min(pause * 2, 30.0)


def _replace_process() -> None:
    """Start this worker afresh in this process (same PID, same command line and environment)."""
    logging.shutdown()
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])
