"""page -> Article: trafilatura as a pure function on HTML, with the feed entry as the fallback."""

from __future__ import annotations

import trafilatura

from monitor.charset import page_text
from monitor.models import Article, Entry
from workers.text import Analyzer

_MIN_TEXT = 200  # characters; below this the page gave no article text
# The standfirst (dek, strapline) sums up the article under its headline, in news CMSs' usual class
# names: like the headline, it is not a claim of its own, and the body tells what it sums up.
_STANDFIRST = ("//*[contains(concat(' ', normalize-space(@class), ' '), ' standfirst ')"
               " or contains(@class, '__standfirst') or contains(@class, 'strapline')"
               " or contains(concat(' ', normalize-space(@class), ' '), ' dek ')"
               " or contains(concat(' ', normalize-space(@class), ' '), ' article-dek ')]")


def _decode(body: bytes, content_type: str | None) -> str:
    if body.startswith((b"\x1f\x8b\x08", b"\x28\xb5\x2f\xfd")):  # gzip/zstd the server did not declare
        body = trafilatura.utils.handle_compressed_file(body)
    return page_text(body, content_type)  # the charset it is really in, whatever was declared


def warm_up() -> None:
    """Load what every page needs. Not dateparser's locale data (2 s of CPU and 42 MB per worker):
    htmldate asks it only for a page whose date its own patterns miss, when the feed did not date
    the entry, so a worker whose feeds date their items never loads it (the first page that needs
    it waits those 2 s once)."""
    trafilatura.bare_extraction("<html><body><article><p>" + "Warm-up text. " * 40 + "</p></article></body></html>",
                                with_metadata=True)


def extract(body: bytes, url: str, entry: Entry, content_type: str | None = None) -> Article:
    """The article's own text (no navigation, related links, comments) and metadata.

    When the page yields no text, the feed's title and summary stand in (``from_summary``).
    """
    html = _decode(body, content_type) if body else ""
    doc = None
    if html:
        # The page's metadata (title, date, site name, author) costs nearly half as much again as
        # the text: read it only when the feed does not title and date the entry itself (the feed's
        # name then stands for the site). The page's language comes from its <html lang>.
        from_feed = bool(entry.title and entry.published)
        options = dict(
            url=url, include_comments=False, include_tables=False, favor_precision=True,
            with_metadata=not from_feed, deduplicate=False, prune_xpath=_STANDFIRST,
            # the feed dates the entry: no extensive date search through the page (costly)
            date_extraction_params={"extensive_search": False} if entry.published else None,
        )
        # trafilatura's own extractor alone (fast), then its fallbacks (readability, jusText) only
        # for a page where it found no article: 13 instead of 21 ms a page on the bench pages, the
        # same text on 135 of 143, and none lost (3 pages need the fallbacks)
        doc = trafilatura.bare_extraction(html, fast=True, **options)
        if len((getattr(doc, "text", None) or "").strip()) < _MIN_TEXT:
            doc = trafilatura.bare_extraction(html, fast=False, **options)
    text = (getattr(doc, "text", None) or "").strip()
    title = (getattr(doc, "title", None) or entry.title or "").strip()
    published = entry.published or getattr(doc, "date", None)
    source = (getattr(doc, "sitename", None) or entry.feed_name or "").strip()
    author = getattr(doc, "author", None) or entry.author
    if len(text) < _MIN_TEXT:
        fallback = "\n".join(p for p in (entry.title, entry.summary) if p)
        return Article(url=url, title=title, text=fallback, paragraphs=tuple(p for p in fallback.split("\n") if p),
                       source=source, published=published, author=author, from_summary=True)
    paragraphs = tuple(p.strip() for p in text.split("\n") if p.strip())
    return Article(url=url, title=title, text=text, paragraphs=paragraphs, source=source,
                   published=published, author=author, language=Analyzer.html_language(html))


def from_entry(entry: Entry) -> Article:
    """The article a source carried whole (``entry.text``: a Telegram post): no page, no extraction.
    Its source names whom it was taken from (a forward's origin). It is first-hand: the channel
    says it, so a sentence need not name a source or a time to be a claim (``lexicon.reported``)."""
    source = entry.feed_name + (f" (forwarded from {entry.origin})" if entry.origin else "")
    paragraphs = tuple(p.strip() for p in entry.text.split("\n") if p.strip())
    return Article(url=entry.url, title=entry.title, text="\n".join(paragraphs), paragraphs=paragraphs,
                   source=source.strip(), published=entry.published, author=entry.author, first_hand=True)
