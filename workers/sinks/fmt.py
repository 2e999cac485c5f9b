"""What every chat message says, independent of the service's markup, and fitting it to a size.

A chat sink turns an alert into ``Parts`` (plain, cleaned text: no control characters, one line per
field, long claims shortened), escapes each part for its target, and lets ``fit()`` keep as many
claims as the service's limits allow, ending with "+N more" instead of being rejected.

    watch · new claims                       (header)
    Headline (linked)                        (title, url)
    Outlet · 2023-05-23 10:00 UTC            (byline)
    • claim text — attribution               (one per claim)
      nearest known (31%): "closest known…"  (why it is new)
    claimwatch · alert <id>                  (footer)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from monitor.models import Alert, Claim
from workers.sinks.plain import clean, shorten, when

CLAIM_MAX = 700  # characters of one claim shown in chat; longer ones end with "…"
ATTRIBUTION_MAX = 120
NEAREST_MAX = 160
TITLE_MAX = 240


@dataclass(frozen=True)
class ClaimPart:
    text: str
    attribution: str
    nearest: str  # the nearest known claim, shortened; "" when none
    similarity: float | None


@dataclass(frozen=True)
class Parts:
    watch: str
    kind: str  # "new claims"
    title: str
    url: str
    source: str
    published: str  # "2023-05-23 10:00 UTC" or ""
    claims: tuple[ClaimPart, ...]
    footer: str

    @property
    def header(self) -> str:
        return f"{self.watch} · {self.kind}" if self.watch else self.kind

    @property
    def byline(self) -> str:
        return " · ".join(p for p in (self.source, self.published) if p)


def _claim(c: Claim, claim_max: int) -> ClaimPart:
    nk = c.nearest_known
    return ClaimPart(
        text=shorten(clean(c.text), claim_max),
        attribution=shorten(clean(c.attribution), ATTRIBUTION_MAX),
        nearest=shorten(clean(nk.text), NEAREST_MAX) if nk else "",
        similarity=nk.similarity if nk else None,
    )


def parts(alert: Alert, *, claim_max: int = CLAIM_MAX) -> Parts:
    """The alert's fields as clean plain text (nothing escaped yet). Pure."""
    return Parts(
        watch=clean(alert.watch),
        kind=clean(alert.type).replace("_", " ") or "new claims",
        title=shorten(clean(alert.article_title), TITLE_MAX) or clean(alert.article_url),
        url=clean(alert.article_url),
        source=clean(alert.article_source),
        published=when(alert.article_published or alert.detected_at),
        claims=tuple(_claim(c, claim_max) for c in alert.claims),
        footer=f"claimwatch · alert {clean(alert.id)}",
    )


def why(c: ClaimPart) -> str:
    """Why a claim is new, as plain text: the closest thing the watch knew, and how close."""
    if not c.nearest:
        return "nothing similar known"
    return f"nearest known ({c.similarity or 0:.0%}): \u201c{c.nearest}\u201d"


def more(n: int) -> str:
    return f"+{n} more claim{'s' if n != 1 else ''}"


def fit(
    items: Sequence[str],
    budget: int,
    *,
    size: Callable[[str], int] = len,
    max_items: int | None = None,
    tail: Callable[[int], str] = more,
) -> tuple[list[str], str]:
    """The leading ``items`` that fit in ``budget`` (measured by ``size``), keeping room for the
    "+N more" line; returns (kept, tail) where tail is "" when everything fits.

    ``items`` must each be small (claims are shortened to ``CLAIM_MAX`` first): an item is never cut,
    since a cut could fall inside markup.
    """
    limit = len(items) if max_items is None else min(len(items), max_items)
    if limit == len(items) and sum(size(i) for i in items) <= budget:
        return list(items), ""
    room = budget - size(tail(len(items)))
    kept: list[str] = []
    used = 0
    for item in items[:limit]:
        if used + size(item) > room:
            break
        kept.append(item)
        used += size(item)
    rest = len(items) - len(kept)
    return kept, (tail(rest) if rest else "")


def link_target(url: str) -> str:
    """``url`` when it is an http(s) URL (the only kind a message links to), else ""."""
    return url if url.lower().startswith(("http://", "https://")) and " " not in url else ""
