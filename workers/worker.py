"""`claimwatch worker`: an RQ worker whose process holds the pipeline, loaded before the first job.

RQ's default ``Worker`` forks a work horse per job: a crash or a kill in one article never takes
the worker down, and because the parent has already imported trafilatura, the language data and
each watch's knowledge index, a fork starts warm (copy-on-write). Before each fork the parent reads
what other workers added to the knowledge, so a job only syncs what arrived during its own run.

Reliability (README "Operations / reliability"):

- A horse dies with its worker (PR_SET_PDEATHSIG): a killed worker leaves no orphan finishing a
  job that is about to be re-run elsewhere.
- Heartbeats every ``JOB_MONITORING`` seconds, so a dead worker's job expires from RQ's
  StartedJobRegistry about a minute after its last beat (RQ adds 60 s); ``monitor.broker.recover_jobs``
  (run by every worker's maintenance and by ``claimwatch run``) then hands it back to the queue.
- A worker whose work loop quits (Redis away: RQ gives up on some connection errors) starts a new
  one after a pause, until SIGTERM/SIGINT.
- An expected job failure (``ClaimwatchError``: a page timeout retried later) is one log line, not
  a traceback; latencies (queue wait, job time per function) go to ``cw:latency``.
- The fork-per-job model and a multi-threaded OpenMP runtime (torch) do not mix: a horse forked
  after the parent ran a parallel region deadlocks. Intra-op threads default to one here.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before anything imports torch (see the module doc)
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import contextlib  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import redis  # noqa: E402
from rq import Worker  # noqa: E402
from rq.scheduler import RQScheduler  # noqa: E402

from monitor.broker import connect, recover_jobs, set_death_signal, worker_name  # noqa: E402
from monitor.errors import ClaimwatchError  # noqa: E402
from monitor.queue import queues  # noqa: E402
from monitor.settings import Settings  # noqa: E402
from monitor.store import Store  # noqa: E402
from workers import jobs  # noqa: E402
from workers.pipeline import Context  # noqa: E402
from workers.runtime import boot, refresh  # noqa: E402

log = logging.getLogger(__name__)

WORKER_TTL = 30  # seconds a worker's registration lives without a heartbeat (RQ adds 60 while idle)
JOB_MONITORING = 5  # seconds between heartbeats while a job runs
MAINTENANCE = 30  # seconds between RQ's registry clean-ups (and ours)


class _Scheduler(RQScheduler):
    """RQ's scheduler process, which dies with its worker (else it outlives a killed worker, holding the lock)."""

    def work(self):  # type: ignore[no-untyped-def]
        set_death_signal(signal.SIGKILL)
        return super().work()


class PreloadedWorker(Worker):
    ctx: Context
    store: Store

    def _start_scheduler(self, burst: bool = False, logging_level: str | None = "INFO",  # type: ignore[override]
                         date_format: str = "%H:%M:%S", log_format: str = "%(asctime)s %(message)s") -> None:
        # RQ's own, with a scheduler named after its worker (``run`` frees the lock of a dead one)
        self.scheduler = _Scheduler(self.queues, connection=self.connection, serializer=self.serializer,
                                    logging_level=logging_level if logging_level is not None else self.log.level,
                                    date_format=date_format, log_format=log_format, name=f"{self.name}-scheduler")
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

    def execute_job(self, job, queue):  # type: ignore[no-untyped-def]
        refresh(self.ctx)
        started = time.monotonic()
        if job.enqueued_at is not None:
            waited = (datetime.now(UTC) - job.enqueued_at.replace(tzinfo=UTC)).total_seconds()
            self._observe("queue_wait", waited)
        try:
            return super().execute_job(job, queue)
        finally:
            self._observe(f"job_{(job.func_name or 'job').rsplit('.', 1)[-1]}", time.monotonic() - started)

    def _observe(self, stage: str, seconds: float) -> None:
        with contextlib.suppress(redis.RedisError):
            self.store.observe(stage, seconds)

    def main_work_horse(self, job, queue):  # type: ignore[no-untyped-def]
        parent = os.getppid()
        set_death_signal(signal.SIGKILL)  # the horse dies with its worker
        if os.getppid() != parent:  # the worker died between fork and prctl
            os._exit(1)
        return super().main_work_horse(job, queue)

    def handle_exception(self, job, *exc_info):  # type: ignore[no-untyped-def]
        exc = exc_info[1] if len(exc_info) > 1 else None
        if isinstance(exc, ClaimwatchError):  # expected: say why in one line; RQ retries or fails the job
            left = job.retries_left
            self.log.warning("job %s failed: %s: %s%s", job.id, exc.kind, exc,
                             f" ({left} retries left)" if left else " (no retries left)")
            return
        super().handle_exception(job, *exc_info)

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
    stopping = {"now": False}
    restarts, pause = 0, 1.0
    while True:
        worker = PreloadedWorker(list(queues(connection)), connection=connection,
                                 name=worker_name(os.getpid(), restarts), worker_ttl=WORKER_TTL,
                                 job_monitoring_interval=JOB_MONITORING, maintenance_interval=MAINTENANCE)
        worker.ctx, worker.store = ctx, Store(connection)
        if restarts == 0:
            log.info("worker %s ready: %s", worker.name, ", ".join(
                f"{w}: {len(k.items)} known sentences" for w, k in ctx.knowledge.items()))
        try:
            worker.work(burst=burst, with_scheduler=True, logging_level=settings.service.log_level)
        except redis.RedisError as e:  # teardown could not reach Redis either
            log.warning("worker %s: Redis unreachable (%s)", worker.name, type(e).__name__)
        asked = getattr(worker, "_stop_requested", False) or getattr(worker, "_shutdown_requested_date", None)
        if burst or asked or stopping["now"]:
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
