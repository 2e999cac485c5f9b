"""`claimwatch` (== `python -m monitor`): run, poller, worker, check, status, test-alert, alerts retry.

Bad configuration prints one line naming the key and exits 2, before anything starts.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from monitor import logs
from monitor.broker import EmbeddedRedis, connect
from monitor.errors import ClaimwatchError, ConfigError
from monitor.http import make_client
from monitor.models import Alert
from monitor.queue import enqueue_delivery, queues
from monitor.settings import Settings, load
from monitor.status import collect
from monitor.store import Store

log = logging.getLogger("claimwatch")


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="claimwatch", description="Watch the news; alert what is new.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", "-c", action="append", type=Path, default=[], metavar="FILE",
                        help="TOML config; repeat to layer (later files win)")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("run", parents=[common], help="everything on one machine: Redis (unless redis_url), poller, workers")
    sub.add_parser("poller", parents=[common], help="the feed poller alone, against redis_url")
    w = sub.add_parser("worker", parents=[common], help="one RQ worker, against redis_url")
    w.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    c = sub.add_parser("check", parents=[common], help="run the pipeline once on a URL or HTML file; change nothing")
    c.add_argument("target", help="http(s) URL or path of an HTML file")
    c.add_argument("--explain", action="store_true", help="the verdict on every sentence, and why")
    c.add_argument("--watch", help="only this watch (default: every watch)")
    s = sub.add_parser("status", parents=[common], help="feeds, errors, queue depths, recent alerts")
    s.add_argument("--json", action="store_true")
    t = sub.add_parser("test-alert", parents=[common], help="send a sample alert to each configured sink, or to SINK")
    t.add_argument("sink", nargs="?", help="a sink's name (0:slack), index (0) or type (slack); default: every sink")
    a = sub.add_parser("alerts", parents=[common], help="manage alert deliveries")
    asub = a.add_subparsers(dest="alerts_command", required=True)
    r = asub.add_parser("retry", parents=[common], help="send the dead letters (deliveries that failed for good) again")
    r.add_argument("--sink", help="only this sink: its name (0:slack), index (0) or type (slack)")
    r.add_argument("--id", dest="alert_id", help="only this alert id")
    return ap


def _redis_url(settings: Settings, required: bool) -> str | None:
    url = os.environ.get("CLAIMWATCH_REDIS_URL") or settings.service.redis_url
    if required and not url:
        raise ConfigError("service.redis_url: required for this command (only `run` starts an embedded Redis)")
    return url


def _worker_module():
    return importlib.import_module("workers.worker")  # by name: the monitor package never imports workers


@contextlib.contextmanager
def _redis(settings: Settings) -> Iterator[tuple[redis.Redis, bool]]:
    """The service's Redis for a one-shot command: ``redis_url``; else the embedded server of a
    running `claimwatch run` on the same data_dir; else that server started just for this command.
    Yields the connection and whether the service's own Redis was found running."""
    url = _redis_url(settings, False)
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


def _status(settings: Settings, as_json: bool) -> int:

    with _redis(settings) as (connection, _):
        report = collect(Store(connection), connection)
    if as_json:
        print(json.dumps(report, indent=1, ensure_ascii=False))
        return 0
    print(f"feeds ({len(report['feeds'])}):")
    for f in report["feeds"]:
        state = "GONE" if f["gone"] else (f"{f['errors']} error(s): {f['last_error']}" if f["errors"] else "ok")
        print(f"  {f['url']}  [{f['last_status'] or '-'}] {state}; next poll in {f['next_poll_in']} s")
    print("queues: " + ", ".join(f"{k} {v}" for k, v in report["queues"].items()))
    print(f"pollers alive: {len(report['pollers'])}; workers: {len(report['workers'])}")
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


def _sink_names(settings: Settings, selector: str | None) -> list[str]:
    """The names ("{index}:{type}") of the enabled sinks ``selector`` picks (name, index or type)."""
    names = [f"{i}:{a.type}" for i, a in enumerate(settings.alerts) if a.enabled]
    return [n for n in names if not selector or selector in (n, *n.split(":", 1))]


def _alerts_retry(settings: Settings, selector: str | None, alert_id: str | None) -> int:
    """Move dead letters of configured sinks back onto the delivery queue (the workers send them)."""
    names = _sink_names(settings, selector)
    if selector and not names:
        raise ConfigError(f"alerts: no enabled sink matches {selector!r}")
    with _redis(settings) as (connection, service_running):
        store, alerts_q = Store(connection), queues(connection)[0]
        generation = int(time.time())
        resent = 0
        for name in names:
            for letter in store.deliveries.take_dead_letters(name, alert_id):
                alert = Alert.from_dict(letter["alert"])
                store.deliveries.clear(alert.id, name)
                enqueue_delivery(alerts_q, alert, name, generation=generation)
                resent += 1
                print(f"  {alert.id} -> sink {name} (failed before: {letter.get('error', '?')})")
        left = len(store.deliveries.dead_letters())
    print(f"re-queued {resent} deliver{'y' if resent == 1 else 'ies'}; {left} dead letter(s) left"
          + ("" if service_running else " (the workers of `claimwatch run` send them when it runs)"))
    return 0


def _test_alert(settings: Settings, selector: str | None) -> int:
    sinks = importlib.import_module("workers.sinks")  # by name: the monitor package never imports workers
    with make_client(settings.network) as client:
        return sinks.send_sample(settings, selector, client, sys.stdout)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if not args.config:
            default = Path("config/claimwatch.toml")
            if not default.is_file():
                raise ConfigError("no --config given and config/claimwatch.toml not found")
            args.config = [default]
        settings = load(args.config)
        logs.setup(settings.service.log_level, settings.service.log_format, args.command)
        if args.command == "run":
            from monitor.service import run

            return run(settings, args.config)
        if args.command == "poller":
            from monitor.service import run_poller

            run_poller(settings, _redis_url(settings, True))  # type: ignore[arg-type]
            return 0
        if args.command == "worker":
            return _worker_module().main(settings, _redis_url(settings, True), burst=args.burst)
        if args.command == "check":
            check = importlib.import_module("workers.check")
            return check.main(settings, args.target, explain=args.explain, watch=args.watch,
                              redis_url=_redis_url(settings, False))
        if args.command == "status":
            return _status(settings, args.json)
        if args.command == "test-alert":
            return _test_alert(settings, args.sink)
        if args.command == "alerts" and args.alerts_command == "retry":
            return _alerts_retry(settings, args.sink, args.alert_id)
    except ConfigError as e:
        print(f"claimwatch: config error: {e}", file=sys.stderr)
        return 2
    except ClaimwatchError as e:
        print(f"claimwatch: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 2
