"""The types that travel along the flow: feed -> entry -> article -> claims -> alert.

Every type is a frozen dataclass that round-trips through JSON (``to_dict``/``from_dict``), so it
can be an RQ job argument and a Redis record without pickling code objects.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


def _from_dict(cls: type[T], data: dict[str, Any]) -> T:
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class Feed:
    url: str
    name: str = ""
    interval: float | None = None  # seconds; None: the service's poll_interval

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Feed:
        return _from_dict(cls, data)


@dataclass(frozen=True)
class Entry:
    """One item of a feed that matched at least one watch's keywords (``watches``)."""

    watches: tuple[str, ...]
    feed_url: str
    feed_name: str
    url: str  # canonical: tracking parameters dropped
    link: str  # as the feed gave it
    guid: str
    title: str = ""
    summary: str = ""
    published: str | None = None  # ISO 8601
    author: str | None = None
    learned: tuple[str, ...] = ()  # the watches whose learned profile, not keywords, kept it (``monitor.profile``)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        data = dict(data)
        data["watches"] = tuple(data.get("watches") or ())
        data["learned"] = tuple(data.get("learned") or ())
        return _from_dict(cls, data)


@dataclass(frozen=True)
class Article:
    """The text of a page, without navigation, related links or comments, and its metadata."""

    url: str
    title: str
    text: str
    paragraphs: tuple[str, ...] = ()
    source: str = ""
    published: str | None = None
    author: str | None = None
    language: str | None = None
    from_summary: bool = False  # the page gave no text; this is the feed's summary

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["paragraphs"] = list(self.paragraphs)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        data = dict(data)
        data["paragraphs"] = tuple(data.get("paragraphs") or ())
        return _from_dict(cls, data)


@dataclass(frozen=True)
class Known:
    """The known sentence nearest to a claim."""

    text: str
    similarity: float

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "similarity": round(self.similarity, 3)}


@dataclass(frozen=True)
class Claim:
    text: str
    attribution: str | None = None
    nearest_known: Known | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "attribution": self.attribution,
            "nearest_known": self.nearest_known.to_dict() if self.nearest_known else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Claim:
        nk = data.get("nearest_known")
        return cls(
            text=data["text"],
            attribution=data.get("attribution"),
            nearest_known=Known(nk["text"], float(nk["similarity"])) if nk else None,
        )


@dataclass(frozen=True)
class Alert:
    id: str  # stable: the same on every retry of every delivery
    type: str  # "new_claims"
    watch: str
    article_url: str
    article_title: str
    article_source: str
    article_published: str | None
    claims: tuple[Claim, ...]
    detected_at: str
    extra: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        """The generic webhook body (CONTRACT.md, "The alert")."""
        return {
            "type": self.type,
            "id": self.id,
            "watch": self.watch,
            "article": {
                "url": self.article_url,
                "title": self.article_title,
                "source": self.article_source,
                "published": self.article_published,
            },
            "claims": [c.to_dict() for c in self.claims],
            "detected_at": self.detected_at,
        }

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["claims"] = [c.to_dict() for c in self.claims]
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Alert:
        data = dict(data)
        data["claims"] = tuple(Claim.from_dict(c) for c in data.get("claims") or ())
        return _from_dict(cls, data)
