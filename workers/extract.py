"""page -> Article: trafilatura as a pure function on HTML, with the feed entry as the fallback."""

from __future__ import annotations

import trafilatura

from monitor.models import Article, Entry
from workers.text import Analyzer

_MIN_TEXT = 200  # characters; below this the page gave no article text


def _decode(body: bytes, content_type: str | None) -> str:
    charset = None
    if content_type and "charset=" in content_type.lower():
        charset = content_type.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'")
    if charset:
        try:
            return body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    return trafilatura.utils.decode_file(body)  # BOM, meta charset, detection


def extract(body: bytes, url: str, entry: Entry, content_type: str | None = None) -> Article:
    """The article's own text (no navigation, related links, comments) and metadata.

    When the page yields no text, the feed's title and summary stand in (``from_summary``).
    """
    html = _decode(body, content_type) if body else ""
    doc = None
    if html:
        doc = trafilatura.bare_extraction(
            html, url=url, include_comments=False, include_tables=False, favor_precision=True,
            with_metadata=True, deduplicate=False,
            # the feed already dates the entry: no extensive date search through the page (costly)
            date_extraction_params={"extensive_search": False} if entry.published else None,
        )
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
