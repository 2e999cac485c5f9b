"""The one-shot commands an operator runs against the service's Redis: `status` and `alerts retry`.

They need neither the poller nor the workers' code (a dead letter goes back on the delivery queue by
the job's dotted name), so they live on the monitor side; ``claimwatch.cli`` resolves the Redis URL
and calls them. Without a ``redis_url`` they use the embedded server of a running `claimwatch run`
on the same ``data_dir``, or start that server for the command alone (a few hundred ms) and stop it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import redis

from monitor.broker import EmbeddedRedis, connect
from monitor.desk.actions import retry_dead
from monitor.settings import Settings
from monitor.status import collect
from monitor.store import Store


@contextlib.contextmanager
def service_redis(settings: Settings, url: str | None) -> Iterator[tuple[redis.Redis, bool]]:
    """The service's Redis for a one-shot command: ``url``; else the embedded server of a running
    `claimwatch run` on the same data_dir; else that server started just for this command.
    Yields the connection and whether the service's own Redis was found running."""
    if url:
        yield connect(url), True
        return
    running = EmbeddedRedis(settings.service.data_dir)
    if running.socket.exists():
        try:
            redis.Redis(unix_socket_path=str(running.socket), socket_timeout=2).ping()
        except redis.RedisError:
            pass  # a socket left by a killed server: start one below (it removes the stale socket)
        else:
            yield connect(running.url), True
            return
    embedded = EmbeddedRedis(settings.service.data_dir).start()
    try:
        yield connect(embedded.url), False
    finally:
        embedded.stop()


def status(settings: Settings, url: str | None, as_json: bool) -> int:
    with service_redis(settings, url) as (connection, _):
        report = collect(Store(connection), connection, settings)
    if as_json:
        print(json.dumps(report, indent=1, ensure_ascii=False))
        return 0
    polling = bool(report["pollers"])
    print(f"feeds ({len(report['feeds'])}):")
    for f in report["feeds"]:
        state = "GONE" if f["gone"] else (f"{f['errors']} error(s): {f['last_error']}" if f["errors"] else "ok")
        when = f["next_poll_in"]
        nxt = "" if when is None else "; next poll " + (
            ("now" if when == 0 else f"in {when:.0f} s") if polling else "when a poller runs")
        print(f"  {f['name'] or f['url']}  ({f['url']})  [{f['last_status'] or '-'}] {state}{nxt}")
    print("queues: " + ", ".join(f"{k} {v}" for k, v in report["queues"].items()))
    print(f"pollers alive: {len(report['pollers'])}; workers: {len(report['workers'])}"
          + ("" if polling else " (no poller is running: the service is stopped)"))
    digests = report["digests"]
    if digests["claims_held"] or digests["formed_not_enqueued"]:
        held = ", ".join(f"{k}: {n}" for k, n in sorted(digests["claims_held"].items())) or "none"
        print(f"digests: claims held for the next one: {held}; formed, not yet enqueued: "
              f"{digests['formed_not_enqueued']}")
    print("recent alerts:")
    for a in report["recent_alerts"]:
        print(f"  {a.get('detected_at', '')}  {a.get('watch', '')}  {a.get('title', '')}  {a.get('url', '')}")
    if report["dead_letters"]:
        print("dead letters (deliveries that failed for good):")
        for d in report["dead_letters"]:
            print(f"  {d.get('at', '')}  sink {d.get('sink')}: {d.get('error')}"
                  f"  (alert {(d.get('alert') or {}).get('id', '?')})")
        print("  resend them with `claimwatch alerts retry [--sink SINK] [--id ALERT_ID]`")
    return 0


def alerts_retry(settings: Settings, url: str | None, selector: str | None, alert_id: str | None) -> int:
    """Move dead letters of configured sinks back onto the delivery queue (the workers send them)."""
    with service_redis(settings, url) as (connection, service_running):
        store = Store(connection)
        resent = retry_dead(store, connection, settings, selector, alert_id)
        for r in resent:
            print(f"  {r['alert_id']} -> sink {r['sink']} (failed before: {r['error']})")
        left = len(store.deliveries.dead_letters())
    n = len(resent)
    print(f"re-queued {n} deliver{'y' if n == 1 else 'ies'}; {left} dead letter(s) left"
          + ("" if service_running else " (the workers of `claimwatch run` send them when it runs)"))
    return 0
