"""`claimwatch` (== `python -m claimwatch`): run, poller, worker, check, status, test-alert, alerts retry,
seed add|list, feedback not-new|off-topic|list, feeds import|export|discover.

The composition root: the one place that imports both sides, ``monitor`` (the poller, the service
and the core) and ``workers`` (the pipeline and the sinks), with plain imports, so import-linter
sees every arrow (contracts in pyproject.toml, README "Architecture"). Each command imports what
it runs when it runs, not at the top: the poller's and `status`'s processes never load the
workers' code (importing it, trafilatura and numpy included, takes ~1 s and ~125 MB on the 2-core
dev VM), and `check` none of the always-on side (tests/integration/test_entry_points.py runs
each command and reads what it imported).

Bad configuration prints one line naming the key and exits 2, before anything starts (the encoder
``service.embeddings`` names is checked by the commands that load it); so does a command line that
cannot work (``check`` on a missing file, ``--watch`` naming no watch).
"""

from __future__ import annotations

import os

# One BLAS thread per process, set before anything imports numpy: OpenBLAS otherwise starts a thread
# per core in every process, and `run` starts one worker per core. Two workers' four threads on two
# cores burnt 2.4x the CPU on the same matrix products, and two workers judged a burst no faster
# than one (benchmarks/firehose.py). Set by the caller, these win.
for _blas in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_blas, "1")

import argparse  # noqa: E402
import importlib.metadata  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from monitor import logs  # noqa: E402
from monitor.errors import ClaimwatchError, ConfigError, UsageError  # noqa: E402
from monitor.settings import Settings, load  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="claimwatch", description="Watch the news; alert what is new.")
    ap.add_argument("--version", action="version", version=f"claimwatch {_version()}")
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
    sd = sub.add_parser("seed", parents=[common], help="a watch's known facts: add one, list them")
    sdsub = sd.add_subparsers(dest="seed_command", required=True)
    sa = sdsub.add_parser("add", parents=[common], help="add a known fact (text), a page (--url) or a file (--file)")
    sa.add_argument("watch")
    sa.add_argument("text", nargs="?", help="the fact, in one or more sentences")
    sa.add_argument("--url", dest="page", help="a page whose article text becomes known")
    sa.add_argument("--file", type=Path, help="a text file whose sentences become known")
    sl = sdsub.add_parser("list", parents=[common], help="the seed files and the known facts added since")
    sl.add_argument("watch")
    fb = sub.add_parser("feedback", parents=[common], help="teach a watch: a claim was not new, an article off topic")
    fbsub = fb.add_subparsers(dest="feedback_command", required=True)
    nn = fbsub.add_parser("not-new", parents=[common], help="a claim was no news: it becomes known")
    nn.add_argument("watch")
    nn.add_argument("claim", help="the claim's id (the desk and the API show it)")
    nn.add_argument("--repeats", help="the known sentence it repeats (default: none named)")
    ot = fbsub.add_parser("off-topic", parents=[common], help="an article was not about this watch")
    ot.add_argument("watch")
    ot.add_argument("url", help="the article's URL")
    fl = fbsub.add_parser("list", parents=[common], help="the feedback given, newest first, and what it did")
    fl.add_argument("--watch")
    f = sub.add_parser("feeds", parents=[common], help="import or export OPML, discover a page's feeds")
    fsub = f.add_subparsers(dest="feeds_command", required=True)
    fi = fsub.add_parser("import", parents=[common], help="print [[feeds]] TOML tables from an OPML file")
    fi.add_argument("file", type=Path, help="an OPML file (Miniflux, FreshRSS, Feedly... export)")
    fi.add_argument("--watch", help="the watch these feeds are for (default: every watch)")
    fi.add_argument("--output", "-o", type=Path, help="write the tables to this new file instead of printing them")
    fe = fsub.add_parser("export", parents=[common], help="the configured feeds as OPML")
    fe.add_argument("--output", "-o", type=Path, help="write to this file instead of printing")
    fd = fsub.add_parser("discover", parents=[common], help="the feeds a web page names (<link rel=alternate>)")
    fd.add_argument("url", help="an http(s) URL of a page (or of a feed)")
    return ap


def _version() -> str:
    try:
        return importlib.metadata.version("claimwatch")
    except importlib.metadata.PackageNotFoundError:  # a source tree that was never installed
        return "(not installed)"


CONFIG_ENV = "CLAIMWATCH_CONFIG"  # the --config files when none is given, separated by ":" (the image sets it)


def _default_config() -> list[Path]:
    """Without --config: the files ``$CLAIMWATCH_CONFIG`` names, else config/claimwatch.toml. So a
    `docker exec ... claimwatch status` reads the configuration the container's `run` reads."""
    named = [Path(p) for p in os.environ.get(CONFIG_ENV, "").split(os.pathsep) if p]
    if named:
        return named
    default = Path("config/claimwatch.toml")
    if not default.is_file():
        raise ConfigError(f"no --config given, {CONFIG_ENV} is not set and config/claimwatch.toml not found")
    return [default]


def _check_args(settings: Settings, target: str, watch: str | None) -> None:
    """What `check` is given, checked before it loads everything (6-13 s)."""
    if watch is not None and watch not in (names := [w.name for w in settings.watches]):
        raise UsageError(f"check --watch: no watch named {watch!r} (watches: {', '.join(names)})")
    if target.startswith(("http://", "https://")):
        return
    path = Path(target)
    if path.is_dir():
        raise UsageError(f"check: {target} is a directory, not an HTML file")
    if not path.is_file():
        raise UsageError(f"check: {target}: no such file (give a path to an HTML file, or an http(s) URL)")


def _check(args: argparse.Namespace, settings: Settings) -> None:
    """What the command will load, checked before anything starts: the encoder for the commands that
    run workers (a poller-only machine does without it), `check`'s target and watch."""
    if args.command in ("run", "worker", "check"):
        from workers.embed import resolve  # find_spec only: the model loads in the workers

        resolve(settings.service.embeddings)
    if args.command == "check":
        _check_args(settings, args.target, args.watch)


def _redis_url(settings: Settings, required: bool) -> str | None:
    url = os.environ.get("CLAIMWATCH_REDIS_URL") or settings.service.redis_url
    if required and not url:
        raise ConfigError("service.redis_url: required for this command (only `run` starts an embedded Redis)")
    return url


# How `run` starts each of its worker processes (`claimwatch worker` with the same --config files).
WORKER_COMMAND = (sys.executable, "-m", "claimwatch", "worker")


def _run(args: argparse.Namespace, settings: Settings) -> int:
    """The command's parts, imported here so that a process loads only what its command runs."""
    if args.command == "run":
        from monitor.service import run

        return run(settings, args.config, WORKER_COMMAND)
    if args.command == "poller":
        from monitor.service import run_poller

        run_poller(settings, _redis_url(settings, True))  # type: ignore[arg-type]
        return 0
    if args.command == "worker":
        from workers.worker import main as worker

        return worker(settings, _redis_url(settings, True), burst=args.burst)  # type: ignore[arg-type]
    if args.command == "check":
        from workers.check import main as check

        return check(settings, args.target, explain=args.explain, watch=args.watch,
                     redis_url=_redis_url(settings, False))
    if args.command == "status":
        from monitor.admin import status

        return status(settings, _redis_url(settings, False), args.json)
    if args.command == "test-alert":
        from monitor.http import make_client
        from workers.sinks import send_sample

        with make_client(settings.network) as client:
            return send_sample(settings.alerts, settings.watches[0].name, args.sink, client, sys.stdout)
    if args.command == "alerts" and args.alerts_command == "retry":
        from monitor.admin import alerts_retry

        return alerts_retry(settings, _redis_url(settings, False), args.sink, args.alert_id)
    if args.command in ("seed", "feedback"):
        return _desk(args, settings)
    if args.command == "feeds":
        from monitor import subscriptions

        if args.feeds_command == "import":
            return subscriptions.import_opml(settings, args.file, watch=args.watch, output=args.output)
        if args.feeds_command == "export":
            return subscriptions.export_opml(settings, output=args.output)
        return subscriptions.discover_feeds(settings, args.url)
    return 2


def _desk(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.desk import commands

    url = _redis_url(settings, False)
    if args.command == "seed" and args.seed_command == "add":
        return commands.seed_add(settings, url, args.watch, args.text, args.page, args.file)
    if args.command == "seed":
        return commands.seed_list(settings, url, args.watch)
    if args.feedback_command == "list":
        return commands.feedback_list(settings, url, args.watch)
    kind = {"not-new": "not_new", "off-topic": "off_topic"}[args.feedback_command]
    return commands.feedback(settings, url, kind, args.watch, args.claim if kind == "not_new" else args.url,
                             getattr(args, "repeats", None))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if not args.config:
            args.config = _default_config()
        settings = load(args.config)
        _check(args, settings)
        logs.setup(settings.service.log_level, settings.service.log_format, args.command)
        return _run(args, settings)
    except ConfigError as e:
        print(f"claimwatch: config error: {e}", file=sys.stderr)
        return 2
    except UsageError as e:
        print(f"claimwatch: {e}", file=sys.stderr)
        return 2
    except ClaimwatchError as e:
        print(f"claimwatch: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
