"""A channel's web preview page -> its posts. Pure: bytes in, ``Preview`` out.

The page (``t.me/s/<channel>``) lists up to ~20 posts, oldest first, each a ``.tgme_widget_message``
with ``data-post="<channel>/<id>"``; its text in ``.tgme_widget_message_text`` (``<br>`` for line
breaks); its permalink and ``time[datetime]`` in ``.tgme_widget_message_date``; a forward names its
origin in ``.tgme_widget_message_forwarded_from_name`` (a link to the original post when the origin
is a public channel, a plain name otherwise); a link preview is ``.tgme_widget_message_link_preview``
(site, title, description); an edited post says ``edited`` on its meta line
(``.tgme_widget_message_meta``). A reply quotes the post it answers in ``.tgme_widget_message_reply``:
that text is not the post's own. Service messages (channel created, photo changed) are skipped, and
so are posts with no text (a photo, a sticker, a poll) and no link preview.

Links in a post's text come with their ``&`` escaped twice (``href="...?a=1&amp;amp;b=2"``): read
once more. A page without posts and without the channel's header is Telegram's contact page (the
preview is off, or the channel is private or restricted): ``Preview.unavailable`` says what it says.

lxml (already a dependency through trafilatura; libxml2's HTML parser, BSD-licensed, kept by the
lxml project) parses; the selectors are XPath on class tokens, as CSS class selectors match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import lxml.html
from lxml.etree import ParserError, _Element

from monitor.errors import PermanentError


def _cls(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


_MESSAGES = f"//div[{_cls('tgme_widget_message')} and @data-post]"
_TEXT = (f".//div[{_cls('tgme_widget_message_text')} and not(ancestor::*[{_cls('tgme_widget_message_reply')}])"
         f" and not(ancestor::*[{_cls('tgme_widget_message_link_preview')}])]")
_DATE = f".//a[{_cls('tgme_widget_message_date')}]"
_META = f".//*[{_cls('tgme_widget_message_meta')}]"
_FORWARD = f".//*[{_cls('tgme_widget_message_forwarded_from_name')}]"
_PREVIEW = f".//a[{_cls('tgme_widget_message_link_preview')}]"
_SERVICE = f"ancestor-or-self::*[{_cls('service_message')}]"
_BLOCKS = {"p", "div", "blockquote", "pre", "li"}
_UTF8 = lxml.html.HTMLParser(encoding="utf-8")
_POST_LINK = re.compile(r"^https?://[^/?#]+/(?!c/)[A-Za-z][A-Za-z0-9_]{3,31}/[0-9]+/?$")


@dataclass(frozen=True)
class Post:
    channel: str
    id: int
    permalink: str
    published: str | None  # ISO 8601 UTC
    text: str  # the post's own text, its lines joined with "\n"
    edited: bool = False
    origin: str = ""  # a forward: the name of the channel or user it came from
    origin_url: str = ""  # a forward from a public channel: the original post's permalink
    preview: str = ""  # the link preview: site, title and description, one line each
    preview_url: str = ""
    links: tuple[str, ...] = ()  # links in the text, read as a browser follows them


@dataclass(frozen=True)
class Preview:
    title: str  # the channel's name as it shows it
    posts: list[Post]  # oldest first
    unavailable: str | None = None  # no preview: what the page says instead


def parse(body: bytes, channel: str) -> Preview:
    """The posts on a preview page of ``channel`` (posts of other channels on it are ignored)."""
    try:
        # t.me serves UTF-8; without a <meta charset> libxml2 would read bytes as Latin-1
        root = lxml.html.document_fromstring(body, parser=_UTF8 if _is_utf8(body) else None)
    except (ParserError, ValueError) as e:
        raise PermanentError(f"channel {channel}: the preview page is not HTML ({e})", kind="not_a_preview") from None
    title = _first_text(root, f"//*[{_cls('tgme_channel_info_header_title')}]") or _meta(root, "og:title")
    posts = [p for el in root.xpath(_MESSAGES) if (p := _post(el, channel)) is not None]
    if not posts and not root.xpath(_MESSAGES) and not root.xpath(f"//*[{_cls('tgme_channel_info')}]"):
        said = _first_text(root, f"//*[{_cls('tgme_page_description')}]") or _meta(root, "og:description")
        return Preview(title, [], said or "the page shows no channel")
    posts.sort(key=lambda p: p.id)
    return Preview(title, posts)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _post(el: _Element, channel: str) -> Post | None:
    owner, _, number = (el.get("data-post") or "").partition("/")
    if owner.lower() != channel.lower() or not number.isdigit() or el.xpath(_SERVICE):
        return None
    texts = el.xpath(_TEXT)
    text = _lines(texts[0]) if texts else ""
    preview, preview_url = _preview(el)
    if not text and not preview:
        return None
    date = (el.xpath(_DATE) or [None])[0]
    permalink = (date.get("href") or "").strip() if date is not None else ""
    stamp = date.xpath(".//time/@datetime") if date is not None else []
    origin, origin_url = "", ""
    if forward := el.xpath(_FORWARD):
        origin = " ".join(forward[0].text_content().split())
        origin_url = _href(forward[0].get("href") or "")
        if not _POST_LINK.match(origin_url):  # a user's or a private chat's link: no original post to link
            origin_url = ""
    links = tuple(h for a in (texts[0].xpath(".//a[@href]") if texts else []) if (h := _href(a.get("href"))))
    return Post(owner, int(number), permalink or f"https://t.me/{owner}/{number}", _utc(stamp[0] if stamp else None),
                text, _edited(el), origin, origin_url, preview, preview_url, links)


def _lines(el: _Element) -> str:
    """The element's text with its line breaks (``<br>``, block elements) as newlines."""
    parts: list[str] = []

    def walk(node: _Element) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag == "br":
            parts.append("\n")
        else:
            if tag in _BLOCKS and node is not el:
                parts.append("\n")
            parts.append(node.text or "")
            for child in node:
                walk(child)
                parts.append(child.tail or "")
            if tag in _BLOCKS and node is not el:
                parts.append("\n")

    walk(el)
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _preview(el: _Element) -> tuple[str, str]:
    found = el.xpath(_PREVIEW)
    if not found:
        return "", ""
    a = found[0]
    lines = [_first_text(a, f".//*[{_cls(c)}]") for c in ("link_preview_site_name", "link_preview_title")]
    desc = a.xpath(f".//*[{_cls('link_preview_description')}]")
    return "\n".join(x for x in [*lines, _lines(desc[0]) if desc else ""] if x), _href(a.get("href") or "")


def _edited(el: _Element) -> bool:
    """``edited`` on the meta line, outside the date and the author's signature."""
    for meta in el.xpath(_META):
        own = [meta.text or ""] + [c.tail or "" for c in meta]
        own += [c.text_content() for c in meta.iter() if "edited" in (c.get("class") or "")]
        if "edited" in " ".join(own).lower():
            return True
    return False


def _href(raw: str | None) -> str:
    """A link as a browser follows it: Telegram escapes the ``&`` of links in posts twice."""
    raw = (raw or "").strip()
    while "&amp;" in raw:  # only that entity: html.unescape would read "&copy=1" as "(c)=1"
        raw = raw.replace("&amp;", "&")
    return raw if raw.startswith(("http://", "https://")) else ""


def _utc(stamp: str | None) -> str | None:
    if not stamp:
        return None
    try:
        when = datetime.fromisoformat(stamp.strip())
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def _first_text(root: _Element, path: str) -> str:
    found = root.xpath(path)
    return " ".join(found[0].text_content().split()) if found else ""


def _meta(root: _Element, prop: str) -> str:
    found = root.xpath(f"//meta[@property='{prop}']/@content")
    return " ".join(str(found[0]).split()) if found else ""
