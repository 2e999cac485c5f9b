"""One article that carried a claim (``Source``: first, or as a repeat), and a repeat's compact form in
``cw:w:{watch}:repeats:{id}``: ``url hash (16 hex) US seen US published US lang US outlet US url US
title``, the title last (it may hold anything but US, which becomes a space, as in every field)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitor.store.hashing import digest
from monitor.store.values import as_str

US = "\x1f"


def clean(value: str | None) -> str:
    """A field with no separator in it (US, RS, newline: the claims' search lines are split on them too)."""
    return (value or "").replace(US, " ").replace("\n", " ").replace("\x1e", " ")


@dataclass(frozen=True)
class Source:
    """An article that carried a claim: first, or as a repeat."""

    url: str
    outlet: str
    title: str = ""
    published: str | None = None
    lang: str = ""
    seen: str = ""  # when the service read it (ISO 8601)

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "outlet": self.outlet, "title": self.title, "published": self.published,
                "lang": self.lang, "seen": self.seen}


def encode_repeat(src: Source) -> str:
    return US.join([digest(src.url, 8), *(clean(v) for v in (src.seen, src.published, src.lang, src.outlet,
                                                             src.url, src.title))])


def decode_repeat(raw: bytes | str) -> dict[str, Any]:
    _h, seen, published, lang, outlet, url, title = as_str(raw).split(US, 6)
    return Source(url, outlet, title, published or None, lang, seen).to_dict()
