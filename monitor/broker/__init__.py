"""Redis and RQ's bookkeeping, one module per job:

    client.py     connect(): the Redis client, with health checks and retries on brief outages
    embedded.py   EmbeddedRedis: a redis-server child under data_dir, when no redis_url is set
    recovery.py   recover_jobs(): the jobs of dead workers back into their queues, promptly
"""

from __future__ import annotations

from monitor.broker.client import connect
from monitor.broker.embedded import EmbeddedRedis, redis_server_binary
from monitor.broker.recovery import (
    forget_workers,
    recover_jobs,
    release_scheduler_locks,
    worker_name,
    worker_prefix,
)

__all__ = ["EmbeddedRedis", "connect", "forget_workers", "recover_jobs", "redis_server_binary",
           "release_scheduler_locks", "worker_name", "worker_prefix"]
