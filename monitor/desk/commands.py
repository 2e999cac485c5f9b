"""`claimwatch seed add|list` and `claimwatch feedback ...`: the desk's feedback from the command line,
against the service's Redis (``monitor.admin.service_redis``). The feedback is applied by the
service's workers (``workers.feedback``); without a running service, when it next runs."""

from __future__ import annotations

from pathlib import Path

from monitor.admin import service_redis
from monitor.desk.actions import submit
from monitor.errors import UsageError
from monitor.settings import Settings
from monitor.store import Store


def _said(rec: dict, running: bool) -> None:
    print(f"feedback {rec['id']} ({rec['kind']}, watch {rec['watch']}) queued"
          + ("" if running else "; the workers apply it when the service runs"))


def seed_add(settings: Settings, url: str | None, watch: str, text: str | None, page: str | None,
             file: Path | None) -> int:
    given = [x for x in (text, page, file) if x]
    if len(given) != 1:
        raise UsageError("seed add: give one of TEXT, --url URL or --file FILE")
    if file is not None:
        if not file.is_file():
            raise UsageError(f"seed add: {file}: no such file")
        text = file.read_text(encoding="utf-8", errors="replace")
    with service_redis(settings, url) as (connection, running):
        store = Store(connection)
        rec = (submit(store, connection, settings, "seed_url", watch, url=page) if page
               else submit(store, connection, settings, "fact", watch, text=text))
    _said(rec, running)
    return 0


def seed_list(settings: Settings, url: str | None, watch: str) -> int:
    w = settings.watch(watch)
    print(f"seed files of {watch}:")
    for path in w.seed:
        print(f"  {path}")
    with service_redis(settings, url) as (connection, _):
        added = [r for r in Store(connection).feedback.recent(watch, 500) if r["kind"] in ("fact", "seed_url")]
    print("known facts added since:" if added else "no known facts added since")
    for r in added:
        what = r.get("url") or " ".join(str(r.get("text", "")).split())[:100]
        print(f"  {r['created']}  {r['id']}  [{r['status']}] {what}")
    return 0


def feedback(settings: Settings, url: str | None, kind: str, watch: str, target: str,
             repeats: str | None = None) -> int:
    with service_redis(settings, url) as (connection, running):
        store = Store(connection)
        if kind == "not_new":
            rec = submit(store, connection, settings, kind, watch, claim=target, repeats=repeats)
        else:
            rec = submit(store, connection, settings, kind, watch, url=target)
    _said(rec, running)
    return 0


def feedback_list(settings: Settings, url: str | None, watch: str | None) -> int:
    with service_redis(settings, url) as (connection, _):
        items = Store(connection).feedback.recent(watch, 100)
    for r in items:
        what = r.get("claim") or r.get("url") or " ".join(str(r.get("text", "")).split())[:80]
        print(f"{r['created']}  {r['id']}  {r['watch']}  {r['kind']:<9} [{r['status']}] {what}"
              + (f"  -> {r['result']}" if r.get("result") else ""))
    return 0
