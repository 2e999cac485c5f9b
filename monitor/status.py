"""What `claimwatch status`, `/status`, `/healthz` and `/metrics` report, read from Redis.

Nothing here shows a secret: feed URLs are shown as ``scheme://host/path`` (a token in a query
string stays out), sinks by their name (``0:webhook``), never their URL.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import redis
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from rq import Worker

from monitor.http import safe_url
from monitor.queue import ALERTS, ENTRIES, queues
from monitor.settings import Settings
from monitor.store import Store

POLLER_STALE = 30.0  # seconds without a poller heartbeat: the poll loop is stuck or gone


def _shown(url: str | None) -> str:
    """A feed URL as status shows it: no query (tokens), no credentials."""
    if not url:
        return ""
    shown = safe_url(url)
    return shown + ("?…" if "?" in url else "")


def collect(store: Store, connection: redis.Redis, settings: Settings | None = None, *,
            recent: int = 10) -> dict[str, Any]:
    """The report. Feed names come from ``settings`` (Redis keeps a feed by its URL); a feed due
    already (or overdue: no poller runs) has ``next_poll_in`` 0, never a negative number."""
    alerts_q, entries_q = queues(connection)
    now = time.time()
    names = {f.url: f.name for f in settings.feeds} if settings is not None else {}
    feeds = []
    for f in store.feeds.all():
        nxt = float(f.get("next_poll") or 0) or None
        gone = f.get("gone") == "1"
        feeds.append({
            "url": _shown(f.get("url")), "name": names.get(f.get("url", ""), ""),
            "last_status": f.get("last_status", ""),
            "errors": int(f.get("errors") or 0), "last_error": f.get("last_error", ""),
            "gone": gone, "next_poll_in": None if gone or not nxt else max(0.0, round(nxt - now, 1)),
        })
    return {
        "feeds": feeds,
        "queues": {ENTRIES: entries_q.count, ALERTS: alerts_q.count,
                   "scheduled_retries": alerts_q.scheduled_job_registry.count + entries_q.scheduled_job_registry.count,
                   "in_progress": alerts_q.started_job_registry.count + entries_q.started_job_registry.count,
                   "failed": entries_q.failed_job_registry.count + alerts_q.failed_job_registry.count},
        "pollers": store.metrics.alive("poller"),
        "workers": [w.name for w in Worker.all(connection=connection)],
        "recent_alerts": store.alerts.recent(recent),
        "dead_letters": store.deliveries.dead_letters()[-recent:],
        "digests": {"claims_held": store.digests.waiting(), "formed_not_enqueued": len(store.digests.pending())},
        "stats": store.metrics.stats(),
    }


def redis_down(e: redis.RedisError) -> dict[str, Any]:
    """/healthz's answer when Redis fails: unreachable, or answering with a refusal (``MISCONF Errors
    writing to the AOF file: No space left on device``: a full disk)."""
    if isinstance(e, redis.ResponseError):
        return {"ok": False, "redis": f"refuses commands: {e}", "problems": [f"Redis refuses commands: {e}"]}
    return {"ok": False, "redis": f"unreachable: {type(e).__name__}"}


def health(store: Store, connection: redis.Redis,
           extra: Callable[[], dict[str, Any]] | None = None) -> tuple[bool, dict[str, Any]]:
    checks: dict[str, Any] = {}
    try:
        store.client.ping()
        checks["redis"] = "ok"
    except redis.RedisError as e:
        down = redis_down(e)
        if extra is not None:  # what `run` knows needs no Redis: a lost data_dir is why Redis cannot be reached
            down["problems"] = down.get("problems", []) + extra().get("problems", [])
        return False, down
    ages = store.metrics.heartbeat_ages("poller")
    freshest = min(ages.values()) if ages else None
    checks["pollers"] = len(ages)
    checks["poller_heartbeat_age"] = None if freshest is None else round(freshest, 1)
    checks["workers"] = len(Worker.all(connection=connection))
    problems: list[str] = []
    if extra is not None:
        checks |= extra()
        problems += checks.pop("problems", [])
    persistence = store.client.info("persistence")
    if persistence.get("aof_enabled") and persistence.get("aof_last_write_status", "ok") != "ok":
        problems.append("Redis cannot write its append-only file (a full disk?): it refuses writes until it can "
                        "(see its log)")
    if freshest is None or freshest > POLLER_STALE:
        problems.append(f"no poller loop beat in the last {POLLER_STALE:.0f} s")
    if checks["workers"] == 0:
        problems.append("no worker registered")
    if extra is not None and checks.get("worker_processes") == 0:
        problems.append("no worker process running")
    checks["ok"] = not problems
    if problems:
        checks["problems"] = problems
    return not problems, checks


# counter name in cw:stats -> (metric, help, labels); the labels split the rest of the key on ":"
_COUNTERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "feed_poll": ("feed_polls", "feed polls started", ()),
    "feed_304": ("feed_not_modified", "feed polls answered 304 Not Modified", ()),
    "feed_error": ("feed_errors", "failed feed polls, by kind", ("kind",)),
    "feed_items_dropped": ("feed_items_dropped", "feed items not read (over max_feed_items)", ()),
    "entries": ("entries", "entries enqueued", ()),
    "entries_without_link": ("entries_without_link", "entries enqueued without a link", ()),
    "entries_filtered": ("entries_filtered", "feed items no watch takes, by reason (keywords, max_age)", ("reason",)),
    "page_error": ("page_errors", "article pages unusable (the feed summary stood in), by kind", ("kind",)),
    "articles": ("articles", "articles judged, by outcome", ("outcome",)),
    "alerts_sent": ("alerts_sent", "alert deliveries sent, by sink", ("sink",)),
    "alerts_failed": ("alerts_failed", "alert delivery attempts failed, by sink and kind", ("sink", "kind")),
    "alerts_dead": ("alerts_dead", "alert deliveries given up, by sink", ("sink",)),
    "worker_restarts": ("worker_restarts", "worker processes restarted by `run`", ()),
    "redis_restarts": ("redis_restarts", "embedded redis-server restarts", ()),
}


def _split(rest: str, labels: tuple[str, ...]) -> list[str]:
    if not labels:
        return []
    if labels == ("sink", "kind"):  # sink names hold a colon themselves: "0:webhook:timeout"
        head, _, kind = rest.rpartition(":")
        return [head, kind] if head else [rest, ""]
    return [rest]


class StatsCollector:
    """Prometheus metrics from the counters every process keeps in Redis (``cw:stats``, ``cw:latency``)."""

    def __init__(self, store: Store, connection: redis.Redis, extra: Callable[[], dict[str, Any]] | None = None):
        self.store, self.connection, self.extra = store, connection, extra

    def collect(self) -> Iterator[Metric]:
        families: dict[str, CounterMetricFamily] = {}
        for key, value in sorted(self.store.metrics.stats().items()):
            name, _, rest = key.partition(":")
            metric, doc, labels = _COUNTERS.get(name, (name, f"claimwatch {name}", ("kind",) if rest else ()))
            fam = families.get(metric)
            if fam is None:
                fam = families[metric] = CounterMetricFamily(f"claimwatch_{metric}", doc, labels=list(labels))
            fam.add_metric(_split(rest, labels), value)
        yield from families.values()

        for stage, d in sorted(self.store.metrics.latencies().items()):
            h = HistogramMetricFamily(f"claimwatch_{stage}_seconds", f"time spent in {stage.replace('_', ' ')}")
            h.add_metric([], d["buckets"], d["sum"])
            yield h

        depth = GaugeMetricFamily("claimwatch_queue_depth", "jobs waiting", labels=["queue"])
        started = GaugeMetricFamily("claimwatch_jobs_in_progress", "jobs being worked on", labels=["queue"])
        scheduled = GaugeMetricFamily("claimwatch_jobs_scheduled", "jobs waiting for a retry", labels=["queue"])
        failed = GaugeMetricFamily("claimwatch_jobs_failed", "jobs failed for good (kept 7 days)", labels=["queue"])
        for q in queues(self.connection):
            depth.add_metric([q.name], q.count)
            started.add_metric([q.name], q.started_job_registry.count)
            scheduled.add_metric([q.name], q.scheduled_job_registry.count)
            failed.add_metric([q.name], q.failed_job_registry.count)
        yield from (depth, started, scheduled, failed)

        feeds = GaugeMetricFamily("claimwatch_feeds", "configured feeds by state", labels=["state"])
        states = {"ok": 0, "failing": 0, "gone": 0}
        for f in self.store.feeds.all():
            states["gone" if f.get("gone") == "1" else "failing" if int(f.get("errors") or 0) else "ok"] += 1
        for state, n in states.items():
            feeds.add_metric([state], n)
        yield feeds

        ages = self.store.metrics.heartbeat_ages("poller")
        yield GaugeMetricFamily("claimwatch_pollers", "poller loops alive", value=len(ages))
        if ages:
            yield GaugeMetricFamily("claimwatch_poller_heartbeat_age_seconds", "seconds since the poll loop beat",
                                    value=min(ages.values()))
        yield GaugeMetricFamily("claimwatch_workers", "RQ workers registered",
                                value=len(Worker.all(connection=self.connection)))
        if self.extra is not None:
            yield GaugeMetricFamily("claimwatch_worker_processes", "worker processes `run` is running",
                                    value=self.extra().get("worker_processes", 0))
