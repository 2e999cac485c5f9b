"""Feed discovery: the feeds a web page names in its head (``<link rel="alternate"
type="application/rss+xml|atom+xml" href=...>``), as absolute URLs. Pure: bytes in, URLs out.

Used where a page's URL was given as a feed (the poller's ``not_a_feed`` error then says which feed
URL to use) and by ``claimwatch feeds discover URL``. lxml parses (libxml2's HTML parser).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml.etree import ParserError

FEED_TYPES = {"application/rss+xml": "rss", "application/atom+xml": "atom", "application/feed+json": "json",
              "application/rdf+xml": "rdf"}


@dataclass(frozen=True)
class Found:
    url: str
    kind: str  # rss | atom | json | rdf
    title: str


def looks_like_html(body: bytes) -> bool:
    head = body[:2048].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<head" in head or b"<body" in head


def alternates(body: bytes, base: str) -> list[Found]:
    """The feeds the page links as its alternates, in page order, each once; [] if none (or not HTML)."""
    try:
        root = lxml.html.document_fromstring(body)
    except (ParserError, ValueError):
        return []
    declared = root.xpath("//base/@href")
    base = urljoin(base, str(declared[0]).strip()) if declared else base
    out: list[Found] = []
    for link in root.xpath("//link[@href]"):
        rels = (link.get("rel") or "").lower().split()
        kind = FEED_TYPES.get((link.get("type") or "").split(";")[0].strip().lower())
        if "alternate" not in rels or kind is None:
            continue
        url = urljoin(base, (link.get("href") or "").strip())
        if urlsplit(url).scheme in ("http", "https") and all(f.url != url for f in out):
            out.append(Found(url, kind, " ".join((link.get("title") or "").split())))
    return out


def advice(found: list[Found]) -> str:
    """What a ``not_a_feed`` error adds when the page names its feeds."""
    if not found:
        return ""
    others = f" (or {', '.join(f.url for f in found[1:4])})" if len(found) > 1 else ""
    return f"; the page names its feed: use url = \"{found[0].url}\"{others}"
