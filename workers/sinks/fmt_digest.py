"""What every digest message says, independent of the service's markup (``fmt`` does this for an alert).

    belgorod-raids · digest                                           (header)
    3 claims from 2 articles · 2023-05-23 08:00 – 2023-05-24 08:00 UTC  (summary)
    Tue 23 May 2023                                                   (a day: when the claims were first published)
    • claim text — attribution                                        (a claim)
      first: Headline (linked) · Outlet · 10:00 UTC · repeated by 3 later articles
    claimwatch · digest <id>                                          (footer)

Each sink escapes the parts for its target and keeps, with ``fmt.fit``, as many claims as its limits
allow; the claims that do not fit end the message with "+N more claims". A day's heading travels
with the first claim of that day, so a cut never leaves a heading without its claims.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from monitor.models import Digest, DigestItem
from workers.sinks.fmt import ATTRIBUTION_MAX, CLAIM_MAX, TITLE_MAX
from workers.sinks.plain import clean, shorten


@dataclass(frozen=True)
class ItemPart:
    text: str
    attribution: str
    title: str
    url: str
    source: str
    time: str  # "10:00 UTC": when the claim was first published, in the digest's zone
    corroboration: int | None

    @property
    def repeated(self) -> str:
        n = self.corroboration
        if n is None:
            return ""
        return "not repeated yet" if n == 0 else f"repeated by {n} later article{'s' if n != 1 else ''}"

    @property
    def byline(self) -> str:
        """What follows the linked headline: outlet, time, corroboration."""
        return " · ".join(p for p in (self.source, self.time, self.repeated) if p)


@dataclass(frozen=True)
class DigestParts:
    watch: str
    summary: str
    days: tuple[tuple[str, tuple[ItemPart, ...]], ...]
    footer: str

    @property
    def header(self) -> str:
        return f"{self.watch} · digest" if self.watch else "digest"

    @property
    def count(self) -> int:
        return sum(len(items) for _day, items in self.days)


def _local(iso: str | None, zone: ZoneInfo) -> datetime | None:
    try:
        t = datetime.fromisoformat(iso or "")
    except ValueError:
        return None
    return (t if t.tzinfo else t.replace(tzinfo=ZoneInfo("UTC"))).astimezone(zone)


def _item(i: DigestItem, zone: ZoneInfo) -> ItemPart:
    t = _local(i.when, zone)
    return ItemPart(
        text=shorten(clean(i.claim.text), CLAIM_MAX),
        attribution=shorten(clean(i.claim.attribution), ATTRIBUTION_MAX),
        title=shorten(clean(i.title), TITLE_MAX) or clean(i.url),
        url=clean(i.url),
        source=clean(i.source),
        time=t.strftime("%H:%M %Z") if t else "",
        corroboration=i.corroboration,
    )


def parts(d: Digest) -> DigestParts:
    """The digest's fields as clean plain text (nothing escaped yet). Pure."""
    zone = ZoneInfo(d.timezone)
    days = []
    for day, items in d.days():
        label = datetime.fromisoformat(day).strftime("%a %d %b %Y")
        days.append((label, tuple(_item(i, zone) for i in items)))
    n, articles = len(d.items), len({i.alert_id for i in d.items})
    start, end = _local(d.since, zone), _local(d.until, zone)
    span = " – ".join(t.strftime("%Y-%m-%d %H:%M") for t in (start, end) if t)
    if end:
        span += end.strftime(" %Z")
    counted = f"{n} claim{'s' if n != 1 else ''} from {articles} article{'s' if articles != 1 else ''}"
    return DigestParts(clean(d.watch), " · ".join(p for p in (counted, span) if p), tuple(days),
                       f"claimwatch · digest {clean(d.id)}")


def entries(p: DigestParts, day: Callable[[str], str], item: Callable[[ItemPart], str]) -> list[str]:
    """One rendered entry per claim, in order; the first claim of each day carries the day's heading."""
    out = []
    for label, items in p.days:
        for k, i in enumerate(items):
            out.append((day(label) if k == 0 else "") + item(i))
    return out
