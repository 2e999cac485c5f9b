"""OPML, the subscription list every feed reader speaks: in (``claimwatch feeds import``) as
``[[feeds]]`` TOML tables, out (``claimwatch feeds export``) from the configured feeds. Pure.

Import reads the outlines that carry an ``xmlUrl`` at any depth; a feed's name is its ``title``
(else ``text``), its category the ``text`` of the outline it sits in (Miniflux, FreshRSS, Feedly,
Inoreader and NetNewsWire all export categories so; a ``category`` attribute is read too). A URL
listed twice is imported once (its first category), one that is not http(s) is skipped and said.
Outlines ``type="telegram"`` (what export writes for a channel) come back as Telegram feeds.

The XML parser resolves no entities and fetches nothing (lxml with ``resolve_entities=False``,
``no_network=True``): an OPML file from elsewhere cannot read local files or expand a bomb.
tomli-w (MIT, by the author of tomli, the TOML reader the standard library took in) writes TOML.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

import tomli_w
from lxml import etree
from pydantic import ValidationError

from monitor.errors import UsageError
from monitor.settings import FeedSettings
from monitor.telegram import channel as tg_channel


@dataclass(frozen=True)
class Outline:
    url: str
    name: str
    category: str
    type: str = "rss"  # rss | telegram


@dataclass(frozen=True)
class Imported:
    feeds: list[Outline]
    skipped: list[str]  # why each skipped outline was left out


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True,
                           load_dtd=False)


def read(data: bytes, where: str = "OPML") -> Imported:
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as e:
        raise UsageError(f"{where}: not an OPML file ({e})") from None
    if not isinstance(root.tag, str) or etree.QName(root).localname.lower() != "opml":
        raise UsageError(f"{where}: not an OPML file (its root element is <{root.tag}>, not <opml>)")
    feeds: list[Outline] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for el in root.iter("{*}outline"):
        attrs = {k.lower(): (v or "").strip() for k, v in el.attrib.items()}
        url = attrs.get("xmlurl", "")
        if not url:
            continue
        name = " ".join((attrs.get("title") or attrs.get("text") or "").split())
        parent = el.getparent()
        category = attrs.get("category", "").split(",")[0].strip().strip("/")
        if not category and parent is not None and etree.QName(parent).localname.lower() == "outline":
            category = " ".join((parent.get("text") or parent.get("title") or "").split())
        kind = "telegram" if attrs.get("type", "").lower() == "telegram" else "rss"
        if url in seen:
            continue
        problem = _problem(url, kind)
        if problem:
            skipped.append(f"{name or url}: {problem}")
            continue
        seen.add(url)
        feeds.append(Outline(url, name, category, kind))
    return Imported(feeds, skipped)


def _problem(url: str, kind: str) -> str | None:
    try:
        FeedSettings(url=url, type=kind)  # type: ignore[arg-type]
    except ValidationError as e:
        return "; ".join(str(err["msg"]).removeprefix("Value error, ") for err in e.errors())
    return None


def to_toml(feeds: Sequence[Outline], watch: str | None = None) -> str:
    """``[[feeds]]`` tables, in OPML order: name, category, type (Telegram only), url, watches."""
    tables = []
    for f in feeds:
        table: dict[str, object] = {}
        if f.name:
            table["name"] = f.name
        if f.category:
            table["category"] = f.category
        if f.type != "rss":
            table["type"] = f.type
        table["url"] = f.url
        if watch:
            table["watches"] = [watch]
        tables.append(table)
    return tomli_w.dumps({"feeds": tables}) if tables else ""


def export(feeds: Sequence[FeedSettings], title: str = "claimwatch feeds", now: datetime | None = None) -> bytes:
    """OPML 2.0, one outline per category (feeds without one at the top level), as readers import."""
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = title
    etree.SubElement(head, "dateCreated").text = format_datetime(now or datetime.now(UTC))
    body = etree.SubElement(opml, "body")
    groups: dict[str, etree._Element] = {}
    for f in feeds:
        parent = body
        if f.category:
            if f.category not in groups:
                groups[f.category] = etree.SubElement(body, "outline", text=f.category, title=f.category)
            parent = groups[f.category]
        name = f.name or f.channel or f.url
        attrs = {"type": f.type, "text": name, "title": name, "xmlUrl": f.url}
        if f.type == "telegram" and f.channel:
            attrs["htmlUrl"] = f"{tg_channel.PREVIEW_BASE}/{f.channel}"
        etree.SubElement(parent, "outline", attrs)
    return etree.tostring(opml, xml_declaration=True, encoding="UTF-8", pretty_print=True)
