"""What the desk shows of each judged entry, written after the pipeline (``workers.jobs``): each watch's
counts, the article's verdicts, its alerted claims with their first source, and its repeats of
claims alerted before (``monitor.store.claims``).

A repeat is a sentence judged known whose nearest known sentence is an alerted claim, or a sentence
recorded as repeating one (so a copy of a copy counts); an exact copy of an article repeats every
claim that article carried. The pipeline's verdicts already name the nearest known sentence, so this
costs one HMGET per article, and no judgement.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from monitor.models import Alert, Article, Entry
from monitor.store import Store
from monitor.store.claims import Source, claim_id
from workers.pipeline import Assessment, Outcome

log = logging.getLogger(__name__)


def _outlet(article_source: str, entry: Entry) -> str:
    host = entry.url.split("/")[2] if "://" in entry.url else entry.url
    return article_source or entry.feed_name or host


def _source(article: Article | None, entry: Entry, lang: str, seen: str) -> Source:
    return Source(entry.url, _outlet(article.source if article else "", entry),
                  (article.title if article else "") or entry.title,
                  (article.published if article else None) or entry.published, lang, seen)


def record_alert(store: Store, alert: Alert, entry: Entry, lang: str = "") -> None:
    """The alert's claims, each with the article as its first source (a claim recorded before stays as it was)."""
    src = Source(alert.article_url, alert.article_source or _outlet("", entry), alert.article_title,
                 alert.article_published, lang or str(alert.extra.get("lang") or ""), alert.detected_at)
    for c in alert.claims:
        near = c.nearest_known.to_dict() if c.nearest_known else None
        store.claims.record(alert.watch, c.text, c.attribution, src, alert.id, near)


def _verdicts(a: Assessment, article: Article, entry: Entry, repeats: dict[str, str]) -> dict[str, object]:
    return {"watch": a.watch, "url": entry.url, "title": article.title or entry.title,
            "outlet": _outlet(article.source, entry), "published": article.published or entry.published,
            "lang": a.lang, "status": a.status, "reason": a.reason, "relevance": round(a.relevance, 3),
            "duplicate_of": a.duplicate_of, "from_summary": article.from_summary,
            "judged_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "verdicts": [{"sentence": v.sentence, "verdict": v.verdict, "reason": v.reason,
                          "similarity": round(v.similarity, 3), "nearest": v.nearest, "attribution": v.attribution,
                          "repeats": repeats.get(v.nearest or "") if v.verdict == "known" else None,
                          "claim": claim_id(a.watch, v.sentence) if v.is_new else None}
                         for v in a.verdicts]}


def _repeats(store: Store, a: Assessment, src: Source) -> dict[str, str]:
    """Record the article's repeats of alerted claims; nearest known sentence -> the claim it stands for."""
    known = [v for v in a.verdicts if v.verdict == "known" and v.nearest]
    found = store.claims.claims_of_sentences(a.watch, [v.nearest for v in known if v.nearest])
    for v in known:
        cid = found.get(v.nearest or "")
        if cid is None:
            continue
        first = store.claims.get_many(a.watch, [cid], repeats=False)
        if first and first[0]["first"]["url"] != src.url:  # an article does not repeat itself
            store.claims.corroborate(a.watch, cid, src, v.sentence)
    if a.status == "duplicate" and not a.verdicts and a.duplicate_of:  # the same text as another article
        for cid in store.claims.claims_of_article(a.watch, a.duplicate_of):
            store.claims.corroborate(a.watch, cid, src)
    return found


def record(store: Store, outcome: Outcome, entry: Entry) -> None:
    """Everything the desk keeps of one judged entry."""
    article = outcome.article
    if article is None:  # a re-run after a crash: only the alerts are known again
        for alert in outcome.alerts:
            record_alert(store, alert, entry)
        return
    for a in outcome.assessments:
        if a.alert is not None:
            record_alert(store, a.alert, entry, a.lang)
        src = _source(article, entry, a.lang, datetime.now(UTC).isoformat(timespec="seconds"))
        repeats = _repeats(store, a, src) if a.status in ("no_new_claims", "new_claims", "duplicate") else {}
        store.history.count_article(a.watch, a.status, len(a.alert.claims) if a.alert else 0)
        if a.status != "no_match":
            store.verdicts.save(a.watch, entry.url, _verdicts(a, article, entry, repeats))
