"""`claimwatch check URL|FILE [--explain]`: the pipeline once, printing what would be alerted. Changes nothing.

The watch's knowledge is its seed corpus, plus what the service has learnt when a ``redis_url`` is
configured (read only).
"""

from __future__ import annotations

from pathlib import Path

from monitor import http
from monitor.broker import connect
from monitor.feeds import canonical_url
from monitor.models import Entry
from monitor.settings import Settings
from monitor.store import KnownRecord, Store
from workers.extract import extract
from workers.pipeline import Assessment, assess, make_alert
from workers.runtime import boot
from workers.seed import seed_sentences


def _load(target: str, settings: Settings) -> tuple[bytes, str, str | None]:
    if target.startswith(("http://", "https://")):
        net = settings.network
        with http.make_client(net) as client:
            page = http.fetch(client, target, net, max_bytes=net.max_page_bytes, deadline=net.page_deadline)
        return page.body, canonical_url(page.url), page.headers.get("content-type")
    path = Path(target)
    return path.read_bytes(), path.resolve().as_uri(), None


def _print(a: Assessment, explain: bool) -> None:
    print(f"[{a.watch}] {a.status}: {a.reason}" + (f" (relevance {a.relevance:.2f})" if a.relevance else ""))
    for v in a.verdicts:
        if v.is_new or explain:
            mark = "NEW " if v.is_new else f"{v.verdict:<5}"
            print(f"  {mark} {v.sentence}")
            detail = [v.reason]
            if v.attribution:
                detail.append(f"attribution: {v.attribution}")
            if v.nearest:
                detail.append(f"nearest known ({v.similarity:.2f}): {v.nearest[:100]}")
            print("        " + "; ".join(detail))


def main(settings: Settings, target: str, *, explain: bool = False, watch: str | None = None,
         redis_url: str | None = None) -> int:
    ctx = boot(settings, None, eager=False)  # load only what this page needs
    if redis_url:
        store = Store(connect(redis_url))
        for k in ctx.knowledge.values():
            k.sync(store)
    body, url, ctype = _load(target, settings)
    entry = Entry(watches=(), feed_url="", feed_name="", url=url, link=url, guid=url)
    article = extract(body, url, entry, ctype)
    print(f"{article.title or '(no title)'}  {article.source}  {article.published or ''}\n{url}")
    for w in settings.watches:
        if watch and w.name != watch:
            continue
        knowledge = ctx.knowledge[w.name]
        # a page that names none of the watch's keywords is judged without its knowledge (nor its encoder)
        named = ctx.queries[w.name].matches(f"{article.title}\n{article.text}")
        if named and (not redis_url or not knowledge.items):
            for path in w.seed:
                lang, sents = seed_sentences(Path(path).read_text(encoding="utf-8", errors="replace"), ctx.analyzer)
                knowledge.add_records([KnownRecord(s, f"seed:{Path(path).name}", "seed", lang) for s in sents])
        a = assess(article, w, knowledge, ctx.analyzer, ctx.queries[w.name])
        _print(a, explain)
        if a.new:
            alert = make_alert(article, a)
            print(f"  would alert {len(alert.claims)} claim(s), id {alert.id}")
    return 0
