"""The types that travel along the flow: feed -> entry -> article -> claims -> alert.

Every type is a frozen dataclass that round-trips through JSON (``to_dict``/``from_dict``), so it
can be an RQ job argument and a Redis record without pickling code objects.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

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
    text: str = ""  # the article itself when the source carries it whole (a Telegram post): no page is fetched
    origin: str = ""  # whom the source took it from (a forward's original channel): named in the alert's source

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
    first_hand: bool = False  # the text is its source's own statement (a Telegram post), not a report of others'

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


@dataclass(frozen=True)
class DigestItem:
    """One claim of a digest, with the article that first carried it (the alert's) and its corroboration:
    how many later articles repeated it (None: not recorded)."""

    claim: Claim
    alert_id: str
    url: str
    title: str
    source: str
    published: str | None
    detected_at: str
    corroboration: int | None = None

    @property
    def when(self) -> str:
        """When the claim was first published (or, failing that, detected): ISO 8601."""
        return self.published or self.detected_at

    def to_dict(self) -> dict[str, Any]:
        return {"claim": self.claim.to_dict(), "alert_id": self.alert_id, "url": self.url, "title": self.title,
                "source": self.source, "published": self.published, "detected_at": self.detected_at,
                "corroboration": self.corroboration}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DigestItem:
        data = dict(data)
        data["claim"] = Claim.from_dict(data["claim"])
        return _from_dict(cls, data)


def items_of(alert: Alert) -> list[DigestItem]:
    """An alert's claims as digest items, each with the alert's article as its first source."""
    return [DigestItem(c, alert.id, alert.article_url, alert.article_title, alert.article_source,
                       alert.article_published, alert.detected_at) for c in alert.claims]


@dataclass(frozen=True)
class Digest:
    """One message for a period: every claim a watch alerted since the last digest (``items``, in the
    order they were first published). Delivered like an alert (same jobs, retries, dead letters),
    its ``id`` stable across retries."""

    id: str
    watch: str
    since: str | None  # ISO 8601: the previous digest's end; None for a sink's first digest
    until: str  # ISO 8601: the end of this period
    items: tuple[DigestItem, ...]
    timezone: str = "UTC"  # the zone its days are counted in
    type: str = "digest"

    def days(self) -> list[tuple[str, list[DigestItem]]]:
        """The items grouped by event day (the day their first article was published, in ``timezone``),
        as ("YYYY-MM-DD", items) in order."""
        zone = ZoneInfo(self.timezone)
        out: dict[str, list[DigestItem]] = {}
        for item in sorted(self.items, key=lambda i: (_instant(i.when), i.detected_at)):
            day = datetime.fromtimestamp(_instant(item.when), zone).date().isoformat()
            out.setdefault(day, []).append(item)
        return list(out.items())

    def payload(self) -> dict[str, Any]:
        """The generic webhook body of a digest (README "Digests")."""
        return {"type": self.type, "id": self.id, "watch": self.watch, "since": self.since, "until": self.until,
                "days": [{"date": day, "claims": [_item_payload(i) for i in items]} for day, items in self.days()]}

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id, "watch": self.watch, "since": self.since, "until": self.until,
                "items": [i.to_dict() for i in self.items], "timezone": self.timezone}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Digest:
        data = dict(data)
        data["items"] = tuple(DigestItem.from_dict(i) for i in data.get("items") or ())
        return _from_dict(cls, data)


def _instant(iso: str) -> float:
    try:
        t = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return 0.0
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp()


def _item_payload(i: DigestItem) -> dict[str, Any]:
    return i.claim.to_dict() | {"first_source": {"url": i.url, "title": i.title, "source": i.source,
                                                 "published": i.published, "alert_id": i.alert_id},
                                "corroboration": i.corroboration}


Message = Alert | Digest  # what a sink delivers


def message_from_dict(data: dict[str, Any]) -> Message:
    """An alert's or a digest's ``to_dict()`` back, by its ``type``."""
    return Digest.from_dict(data) if data.get("type") == "digest" else Alert.from_dict(data)
