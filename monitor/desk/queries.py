"""What the desk shows, read from the store: watches, a watch's claims, an article's verdicts, feeds,
deliveries. Every answer is plain JSON-ready data and holds no secret: feed URLs as ``status`` shows
them (no query string, no credentials), sinks by name, never a webhook URL or a token."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from monitor.errors import UsageError
from monitor.settings import Settings
from monitor.status import _shown
from monitor.store import Store
from monitor.store.claims import Filters
from monitor.store.history import today

MAX_PAGE = 200  # claims per page at most


def watch_names(settings: Settings) -> list[str]:
    return [w.name for w in settings.watches]


def check_watch(settings: Settings, watch: str) -> None:
    if watch not in watch_names(settings):
        raise UsageError(f"no watch named {watch!r}")


def watches(store: Store, settings: Settings) -> list[dict[str, Any]]:
    """Each watch: claims today and in the last 7 days, last alert, articles read, outcomes (why the
    silent ones were silent), and the health of its feeds."""
    feeds = feeds_of(store, settings)
    out = []
    for w in settings.watches:
        days = store.history.days(w.name, 7)
        last, _ = store.claims.page(w.name, limit=1)
        outcomes = store.history.outcomes(w.name)
        mine = [f for f in feeds if w.name in f["watches"]]
        out.append({
            "name": w.name, "keywords": list(w.keywords),
            "claims_today": days[-1]["claims"], "claims_week": sum(d["claims"] for d in days),
            "claims_total": store.claims.count(w.name),
            "articles_read": sum(v for k, v in outcomes.items() if k != "no_match"),
            "outcomes": outcomes,
            "last_claim": last[0] if last else None,
            "feeds": {"total": len(mine), "failing": sum(1 for f in mine if f["errors"]),
                      "gone": sum(1 for f in mine if f["gone"])},
        })
    return out


def filters_from(params: dict[str, str]) -> Filters:
    return Filters(text=params.get("q", "") or "", outlet=params.get("outlet", "") or "",
                   lang=params.get("lang", "") or "", since=params.get("since") or None,
                   until=params.get("until") or None)


def _int(value: str | None, name: str, default: int, lo: int, hi: int) -> int:
    if value in (None, ""):
        return default
    try:
        n = int(value)
    except ValueError:
        raise UsageError(f"{name}: not a whole number: {value!r}") from None
    if not lo <= n <= hi:
        raise UsageError(f"{name}: {n} is not within {lo}..{hi}")
    return n


def claims(store: Store, settings: Settings, watch: str, params: dict[str, str]) -> dict[str, Any]:
    """A page of the watch's claims newest first: ``q`` (words, all of them), ``outlet``, ``lang``,
    ``since``/``until`` (ISO dates), ``limit``, ``before`` (the cursor a page gives as ``next``)."""
    check_watch(settings, watch)
    for key in ("since", "until"):
        value = params.get(key)
        if value and not _iso(value):
            raise UsageError(f"{key}: not an ISO 8601 date or time: {value!r}")
    limit = _int(params.get("limit"), "limit", 20, 1, MAX_PAGE)
    before = _int(params.get("before"), "before", 0, 0, 2**62)
    page, more = store.claims.page(watch, filters_from(params), limit=limit, before=before)
    return {"watch": watch, "claims": page, "next": more, "total": store.claims.count(watch)}


def _iso(value: str) -> bool:
    from datetime import datetime

    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def claim(store: Store, settings: Settings, watch: str, cid: str) -> dict[str, Any]:
    check_watch(settings, watch)
    found = store.claims.get(watch, cid)
    if found is None:
        raise LookupError(f"watch {watch}: no claim {cid}")
    return found


def article(store: Store, settings: Settings, watch: str, url: str) -> dict[str, Any]:
    """What the watch made of one article (kept 30 days), sentence by sentence."""
    check_watch(settings, watch)
    found = store.verdicts.get(watch, url)
    if found is None:
        raise LookupError(f"watch {watch}: no verdicts kept for {url}")
    return found


def chart(store: Store, watch: str, days: int = 30) -> list[dict[str, Any]]:
    return store.history.days(watch, days)


def feeds_of(store: Store, settings: Settings) -> list[dict[str, Any]]:
    """Every feed: name, URL as status shows it, watches, last status, errors and why, next poll, entries."""
    import time

    state = {f.get("url"): f for f in store.feeds.all()}
    now = time.time()
    out = []
    for f in settings.feeds:
        s = state.get(f.url, {})
        nxt = float(s.get("next_poll") or 0) or None
        gone = s.get("gone") == "1"
        out.append({"name": f.name, "url": _shown(f.url),
                    "watches": list(f.watches) if f.watches else watch_names(settings),
                    "last_status": s.get("last_status", ""), "errors": int(s.get("errors") or 0),
                    "last_error": s.get("last_error", ""), "gone": gone,
                    "next_poll_in": None if gone or not nxt else round(nxt - now, 1),
                    "entries": int(s.get("entries") or 0)})
    return out


def deliveries(store: Store, settings: Settings, recent: int = 20) -> dict[str, Any]:
    """Per sink: its recent deliveries' statuses; the dead letters, each with what a retry needs."""
    sinks = [f"{i}:{a.type}" for i, a in enumerate(settings.alerts) if a.enabled]
    rows = []
    for a in store.alerts.recent(recent):
        status = {s: store.deliveries.status(a.get("id", ""), s) or "queued" for s in sinks}
        rows.append({"id": a.get("id"), "watch": a.get("watch"), "title": a.get("title"), "url": a.get("url"),
                     "detected_at": a.get("detected_at"), "sinks": status})
    dead = [{"alert_id": (d.get("alert") or {}).get("id"), "watch": (d.get("alert") or {}).get("watch"),
             "title": (d.get("alert") or {}).get("article_title"), "sink": d.get("sink"),
             "error": d.get("error"), "attempts": d.get("attempts"), "at": d.get("at")}
            for d in store.deliveries.dead_letters()]
    return {"sinks": sinks, "recent": rows, "dead_letters": dead}


def week_ago() -> str:
    return (today() - timedelta(days=6)).isoformat()
