"""`claimwatch worker`: an RQ worker whose process holds the pipeline, loaded before the first job.

RQ's default ``Worker`` forks a work horse per job: a crash or a kill in one article never takes
the worker down, and because the parent has already imported trafilatura, the language data and
each watch's knowledge index, a fork starts warm (copy-on-write). Before each fork the parent reads
what other workers added to the knowledge, so a job only syncs what arrived during its own run.
"""

from __future__ import annotations

import logging

from rq import Worker

from monitor.broker import connect
from monitor.queue import queues
from monitor.settings import Settings
from workers import jobs
from workers.pipeline import Context
from workers.runtime import boot, refresh

log = logging.getLogger(__name__)


class PreloadedWorker(Worker):
    ctx: Context

    def execute_job(self, job, queue):  # type: ignore[no-untyped-def]
        refresh(self.ctx)
        return super().execute_job(job, queue)


def main(settings: Settings, redis_url: str, *, burst: bool = False) -> int:
    connection = connect(redis_url)
    ctx = boot(settings, connection)
    jobs.install(ctx)
    worker = PreloadedWorker(list(queues(connection)), connection=connection)
    worker.ctx = ctx
    log.info("worker %s ready: %s", worker.name, ", ".join(
        f"{w}: {len(k.items)} known sentences" for w, k in ctx.knowledge.items()))
    worker.work(burst=burst, with_scheduler=True, logging_level=settings.service.log_level)
    return 0
