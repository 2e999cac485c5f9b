"""entry -> page -> Article: the article's page, or the feed's summary when the page is unusable.

An entry whose source carried the article whole (``entry.text``: a Telegram post) is its own
article: no page is fetched.

Unusable (not HTML, gone, too big, a bomb, no extractable text, no link at all): the summary stands
in, counted (``page_error:{kind}``) and logged with its reason. A transient failure (timeout, 5xx,
DNS) propagates so RQ retries the job later; on its ``last_try`` (``workers.jobs`` knows, from RQ)
the summary stands in.

A page gets ``network.page_deadline`` (15 s) in all, not the feeds' 60 s: a worker waiting on a page
processes nothing else, and two trickling pages would stop every article on a two-core install. A
shutdown that arrives while the page is being fetched ends the job at once, and it goes back to the
queue (``workers.interrupt``): nothing before the fetch needs undoing.

The result is kept a day (``cw:page``): a job re-run after a crash does not fetch the page again.
"""

from __future__ import annotations

import logging
import time

import httpx

from monitor import http
from monitor.errors import PermanentError, TransientError
from monitor.models import Article, Entry
from monitor.settings import NetworkSettings
from monitor.store import Store
from workers.extract import extract, from_entry
from workers.interrupt import interruptible

log = logging.getLogger(__name__)


def fetch_article(entry: Entry, client: httpx.Client, net: NetworkSettings, store: Store, *,
                  last_try: bool = True) -> Article:
    """The entry's article (from its page, else its summary); fetched at most once a day. Unless
    ``last_try``, a transient failure is raised for a retry rather than settled with the summary."""
    if entry.text:
        return from_entry(entry)
    cached = store.articles.page(entry.url)
    if cached:
        return Article.from_dict(cached)
    article = _fetch_article(entry, client, net, store, last_try)
    store.articles.save_page(entry.url, article.to_dict())
    return article


def _summary_instead(entry: Entry, store: Store, kind: str, why: str) -> Article:
    log.warning("page %s %s; using the feed's summary", http.safe_url(entry.url), why)
    store.metrics.count(f"page_error:{kind}")
    return extract(b"", entry.url, entry)


def _fetch_article(entry: Entry, client: httpx.Client, net: NetworkSettings, store: Store, last_try: bool) -> Article:
    if not entry.link:
        return _summary_instead(entry, store, "no_link", "(the entry has no link)")
    started = time.monotonic()
    try:
        with interruptible():
            page = http.fetch(client, entry.link, net, max_bytes=net.max_page_bytes, deadline=net.page_deadline)
    except PermanentError as e:
        return _summary_instead(entry, store, e.kind, f"unusable ({e.kind}: {e})")
    except TransientError as e:
        if not last_try:
            store.metrics.count(f"page_error:{e.kind}")
            raise
        return _summary_instead(entry, store, e.kind, f"failed again ({e.kind}: {e})")
    finally:
        store.metrics.observe("page_fetch", time.monotonic() - started)
    ctype = page.headers.get("content-type", "")
    mime = ctype.split(";")[0].strip().lower()
    if (mime and "html" not in mime and "xml" not in mime) or (not mime and _binary(page.body)):
        return _summary_instead(entry, store, "unsupported_type", f"is {mime or 'binary'}, not HTML")
    article = extract(page.body, entry.url, entry, ctype)
    if article.from_summary and page.body:
        log.warning("page %s: no article text found; using the feed's summary", http.safe_url(entry.url))
        store.metrics.count("page_error:no_text")
    return article


def _binary(body: bytes) -> bool:
    head = body[:2048]
    return head.startswith((b"%PDF", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8")) or b"\x00" in head
