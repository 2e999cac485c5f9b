"""OPML files as Miniflux exports them (``internal/reader/opml/serializer.go``: Go's encoding/xml,
four-space indent, one outline per category, sorted, each feed with title, text, xmlUrl, htmlUrl),
built for the OPML tests."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

CATEGORIES = ["All", "Belgorod", "Europe & Russia", "Новости", "Україна", "Wire \"services\""]


def feed_name(i: int) -> str:
    names = ["Outlet", "Новости", "Новини", "Tom & Jerry's <Wire>", "Emoji 🛰 feed", 'Quoted "name"']
    return f"{names[i % len(names)]} {i}"


def miniflux_opml(base: str, n: int = 200) -> bytes:
    """``n`` feeds at ``{base}/feeds/{i}.xml``, spread over the categories."""
    groups: dict[str, list[int]] = {}
    for i in range(n):
        groups.setdefault(CATEGORIES[i % len(CATEGORIES)], []).append(i)
    body = ""
    for category in sorted(groups):
        outlines = "".join(
            f"\n            <outline title={quoteattr(feed_name(i))} text={quoteattr(feed_name(i))} "
            f"xmlUrl={quoteattr(f'{base}/feeds/{i}.xml?format=rss&lang=en')} htmlUrl={quoteattr(f'{base}/site/{i}')}>"
            f"</outline>" for i in groups[category])
        body += f"\n        <outline text={quoteattr(category)}>{outlines}\n        </outline>"
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n'
            f"    <head>\n        <title>Miniflux</title>\n"
            f"        <dateCreated>Sat, 05 Dec 2026 05:00:00 UTC</dateCreated>\n    </head>\n    <body>{body}\n"
            f"    </body>\n</opml>").encode()
