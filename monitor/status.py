"""What `claimwatch status`, `/status`, `/healthz` and `/metrics` report, read from Redis."""

from __future__ import annotations

import time
from typing import Any

import redis
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from rq import Worker

from monitor.queue import ALERTS, ENTRIES, queues
from monitor.store import Store


def collect(store: Store, connection: redis.Redis, *, recent: int = 10) -> dict[str, Any]:
    alerts_q, entries_q = queues(connection)
    now = time.time()
    feeds = []
    for f in store.feeds():
        nxt = float(f.get("next_poll") or 0) or None
        feeds.append({
            "url": f.get("url"), "name": f.get("name", ""), "last_status": f.get("last_status", ""),
            "errors": int(f.get("errors") or 0), "last_error": f.get("last_error", ""),
            "gone": f.get("gone") == "1", "next_poll_in": round(nxt - now, 1) if nxt else None,
        })
    return {
        "feeds": feeds,
        "queues": {ENTRIES: entries_q.count, ALERTS: alerts_q.count,
                   "scheduled_retries": alerts_q.scheduled_job_registry.count,
                   "failed": entries_q.failed_job_registry.count + alerts_q.failed_job_registry.count},
        "pollers": store.alive("poller"),
        "workers": [w.name for w in Worker.all(connection=connection)],
        "recent_alerts": store.recent_alerts(recent),
        "dead_letters": store.dead_letters()[-recent:],
        "stats": store.stats(),
    }


def health(store: Store, connection: redis.Redis) -> tuple[bool, dict[str, Any]]:
    checks: dict[str, Any] = {}
    try:
        store.r.ping()
        checks["redis"] = "ok"
    except redis.RedisError as e:
        return False, {"redis": f"unreachable: {type(e).__name__}"}
    checks["pollers"] = len(store.alive("poller"))
    checks["workers"] = len(Worker.all(connection=connection))
    ok = checks["workers"] > 0
    return ok, checks


class StatsCollector:
    """Prometheus metrics from the counters every process keeps in Redis (``cw:stats``)."""

    def __init__(self, store: Store, connection: redis.Redis):
        self.store, self.connection = store, connection

    def collect(self):
        counters: dict[str, CounterMetricFamily] = {}
        for key, value in sorted(self.store.stats().items()):
            name, _, label = key.partition(":")
            fam = counters.get(name)
            if fam is None:
                fam = counters[name] = CounterMetricFamily(f"claimwatch_{name}", f"claimwatch {name}",
                                                           labels=["kind"])
            fam.add_metric([label or ""], value)
        yield from counters.values()
        depth = GaugeMetricFamily("claimwatch_queue_depth", "jobs waiting", labels=["queue"])
        for q in queues(self.connection):
            depth.add_metric([q.name], q.count)
        yield depth
