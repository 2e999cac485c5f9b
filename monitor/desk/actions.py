"""What the desk and the command line change: feedback (kept in Redis, applied by a worker:
``workers.feedback``) and the resending of dead letters."""

from __future__ import annotations

import time
from typing import Any

import redis

from monitor.errors import ConfigError, UsageError
from monitor.models import message_from_dict
from monitor.queue import enqueue_delivery, enqueue_feedback, queues
from monitor.settings import Settings
from monitor.store import Store

KINDS = ("fact", "seed_url", "not_new", "off_topic")
MAX_FACT = 100_000  # characters of a known fact given at once (a file: use a seed file for more)


def _http(url: str) -> str:
    url = (url or "").strip()
    if not url.startswith(("http://", "https://")) or len(url) > 2000:
        raise UsageError(f"url: not an http(s) URL: {url[:80]!r}")
    return url


def submit(store: Store, connection: redis.Redis, settings: Settings, kind: str, watch: str,
           **given: Any) -> dict[str, Any]:
    """Check, keep and enqueue one piece of feedback; returns its record. ``fact``: ``text``;
    ``seed_url``: ``url``; ``not_new``: ``claim`` (id), optional ``repeats`` (the known sentence it
    repeats, as the user chose it); ``off_topic``: ``url`` (the article's)."""
    if watch not in [w.name for w in settings.watches]:
        raise UsageError(f"watch: no watch named {watch!r}")
    item: dict[str, Any] = {"kind": kind, "watch": watch}
    if kind == "fact":
        text = " ".join(str(given.get("text") or "").split("\n\n")).strip()
        if not text:
            raise UsageError("text: empty")
        if len(text) > MAX_FACT:
            raise UsageError(f"text: {len(text):,} characters, over {MAX_FACT:,}: add it as a seed file")
        item["text"] = str(given.get("text")).strip()
    elif kind == "seed_url":
        item["url"] = _http(str(given.get("url") or ""))
    elif kind == "not_new":
        cid = str(given.get("claim") or "")
        claim = store.claims.get(watch, cid)
        if claim is None:
            raise UsageError(f"claim: watch {watch} has no claim {cid!r}")
        item |= {"claim": cid, "claim_text": claim["text"], "repeats": (given.get("repeats") or None)}
    elif kind == "off_topic":
        item["url"] = _http(str(given.get("url") or ""))
    else:
        raise UsageError(f"kind: one of {', '.join(KINDS)}, not {kind!r}")
    rec = store.feedback.add(item)
    if kind == "not_new":
        store.claims.annotate(watch, item["claim"], feedback={"kind": "not_new", "id": rec["id"],
                                                              "repeats": item["repeats"], "at": rec["created"]})
    if kind == "off_topic":
        for cid in store.claims.claims_of_article(watch, item["url"]):
            claim = store.claims.get(watch, cid)
            if claim and claim["first"]["url"] == item["url"]:
                store.claims.annotate(watch, cid, feedback={"kind": "off_topic", "id": rec["id"],
                                                            "at": rec["created"]})
    enqueue_feedback(queues(connection)[0], rec["id"])
    return rec


def retry_dead(store: Store, connection: redis.Redis, settings: Settings, selector: str | None = None,
               alert_id: str | None = None) -> list[dict[str, str]]:
    """Move dead letters of configured sinks (``selector``: a name, index or type) back onto the
    delivery queue; the workers send them. Returns what was re-queued."""
    names = [f"{i}:{a.type}" for i, a in enumerate(settings.alerts) if a.enabled]
    names = [n for n in names if not selector or selector in (n, *n.split(":", 1))]
    if selector and not names:
        raise ConfigError(f"alerts: no enabled sink matches {selector!r}")
    alerts_q = queues(connection)[0]
    generation = int(time.time())
    out = []
    for name in names:
        for letter in store.deliveries.take_dead_letters(name, alert_id):
            alert = message_from_dict(letter["alert"])
            store.deliveries.clear(alert.id, name)
            enqueue_delivery(alerts_q, alert, name, generation=generation)
            out.append({"alert_id": alert.id, "sink": name, "error": str(letter.get("error", "?"))})
    return out
