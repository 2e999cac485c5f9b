"""Feed bytes -> entries (feedparser on the bytes httpx fetched, never on a URL), and canonical URLs."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import courlan
import feedparser

from monitor.errors import PermanentError
from monitor.http import safe_url
from monitor.store import digest

# Dropped on top of courlan's own tracker list (which already covers most of these).
_TRACKING = re.compile(
    r"^(?:utm_\w*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|ysclid|igshid|mc_cid|mc_eid|_ga|_gl|_hsenc|_hsmi"
    r"|ref|ref_src|ref_url|cmpid|ncid|ocid|spm|at_medium|at_campaign|at_custom\d*)$",
    re.IGNORECASE,
)
_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<[^>]*>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class FeedItem:
    guid: str  # feed's id/guid, else the link, else a hash of title+summary
    link: str  # absolute (resolved against the feed URL), "" if none
    url: str  # canonical_url(link), "" if no link
    title: str  # plain text
    summary: str  # plain text
    published: str | None  # ISO 8601 UTC
    author: str | None
    text: str = ""  # the whole article when the source carries it (a Telegram post): no page to fetch
    origin: str = ""  # whom the source took it from (a forward's channel), for attribution


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    items: list[FeedItem]
    ttl: float | None  # seconds, from RSS <ttl> (minutes)
    problem: str | None  # feedparser's bozo_exception as a short string
    dropped: int = 0  # items beyond ``max_items`` (not read), and entries with nothing to identify them


def canonical_url(url: str) -> str:
    """Lowercase scheme and host, no fragment, no default port, no tracking parameters, sorted query."""
    url = url.strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            return url
        url = courlan.normalize_url(parts._replace(fragment=""), strict=False)
        parts = urlsplit(url)
    except ValueError:
        return url
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(sorted(query)), ""))


def text(value: Any) -> str:
    """HTML (or plain text) -> one line of plain text."""
    if not isinstance(value, str) or not value:
        return ""
    return _SPACE.sub(" ", html.unescape(_TAGS.sub(" ", value))).strip()


def _iso(parsed: Any) -> str | None:
    try:
        return datetime(*parsed[:6], tzinfo=UTC).isoformat()
    except (TypeError, ValueError, OverflowError):
        return None


def _ttl(value: Any) -> float | None:
    try:
        minutes = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return minutes * 60.0 if 0 < minutes < 1e6 else None


def _link(entry: Mapping[str, Any], base: str) -> str:
    raw = entry.get("link")
    if not isinstance(raw, str) or not raw.strip():
        return ""
    try:
        link = urljoin(base, raw.strip())
        scheme = urlsplit(link).scheme
    except ValueError:
        return ""
    return link if scheme in ("http", "https") else ""


def _summary(entry: Mapping[str, Any]) -> str:
    summary = text(entry.get("summary"))
    if not summary:
        for content in entry.get("content") or ():
            summary = text(content.get("value")) if isinstance(content, Mapping) else ""
            if summary:
                break
    return summary


def _item(entry: Mapping[str, Any], base: str) -> FeedItem | None:
    link = _link(entry, base)
    title, summary = text(entry.get("title")), _summary(entry)
    guid = entry.get("id") if isinstance(entry.get("id"), str) else ""
    guid = guid.strip() or link or (f"hash:{digest(title + chr(0) + summary)}" if title or summary else "")
    if not guid:
        return None
    published = _iso(entry.get("published_parsed") or entry.get("updated_parsed"))
    return FeedItem(guid, link, canonical_url(link) if link else "", title, summary, published,
                    text(entry.get("author")) or None)


def parse(body: bytes, url: str, headers: Mapping[str, str] | None = None, *,
          max_items: int | None = None) -> ParsedFeed:
    """The feed's items, the first ``max_items`` of them; PermanentError(kind="not_a_feed") if it is none.

    feedparser never fetches anything: it gets the bytes (external entities are not resolved, and
    expat refuses entity-expansion bombs, after which feedparser's loose parser leaves them unexpanded).
    """
    skip = ("content-encoding", "content-length")  # the body is already decoded
    response_headers = {k.lower(): v for k, v in (headers or {}).items() if k.lower() not in skip}
    response_headers["content-location"] = url  # the base for relative links
    response_headers.setdefault("content-type", "application/xml")  # no header: trust the XML declaration
    try:
        # BytesIO: feedparser treats a bare bytes/str argument as a file name or URL to open.
        d = feedparser.parse(io.BytesIO(body), response_headers=response_headers)
    except Exception as e:  # hostile input must never escape as anything but PermanentError
        raise PermanentError(f"{safe_url(url)}: feed parser failed: {type(e).__name__}", kind="not_a_feed") from None
    if not d.get("version") and not d.get("entries"):
        raise PermanentError(f"not a feed: {safe_url(url)}", kind="not_a_feed")
    entries = [e for e in d.get("entries") or () if isinstance(e, Mapping)]
    dropped = max(0, len(entries) - max_items) if max_items is not None else 0
    if dropped:
        entries = entries[:max_items]
    items = [i for e in entries if (i := _item(e, url))]
    dropped += len(entries) - len(items)
    problem = None
    if d.get("bozo"):
        exc = d.get("bozo_exception")
        problem = f"{type(exc).__name__}: {exc}"[:200] if exc else "bozo"
    feed = d.get("feed") or {}
    return ParsedFeed(text(feed.get("title")), items, _ttl(feed.get("ttl")), problem, dropped)
