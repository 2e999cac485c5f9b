"""Alerts as readable text on a stream (stdout by default): for `check`, `test-alert` and a terminal.

    [belgorod-raids] new claims · Outlet name · 2023-05-23 10:00 UTC
      Headline of the article
      • claim text — attribution
          nearest known (0.31): "closest known claim…"
      https://article/url

Everything shown comes from an untrusted page: ANSI escape sequences, control characters and
bidirectional overrides are removed and line breaks folded, so an article can neither drive the
terminal nor fake extra lines.
"""

from __future__ import annotations

import sys
from typing import TextIO

import httpx

from monitor.models import Alert, Claim, Digest, Message
from workers.sinks import fmt_digest
from workers.sinks.base import Options, Sink, register, watches_of
from workers.sinks.plain import clean, shorten, when

__all__ = ["ConsoleSink", "clean", "render_digest_text", "render_text", "shorten", "when"]
_NEAREST_MAX = 100

def _claim_lines(claim: Claim) -> list[str]:
    line = f"  • {clean(claim.text)}"
    if claim.attribution and clean(claim.attribution):
        line += f" — {clean(claim.attribution)}"
    lines = [line]
    if claim.nearest_known:
        nearest = shorten(clean(claim.nearest_known.text), _NEAREST_MAX)
        lines.append(f'      nearest known ({claim.nearest_known.similarity:.2f}): "{nearest}"')
    return lines


def render_text(alert: Alert) -> str:
    """The alert as lines of text ending with a newline. Pure."""
    head = [f"[{clean(alert.watch)}] {clean(alert.type).replace('_', ' ')}"]
    head += [part for part in (clean(alert.article_source), when(alert.article_published or alert.detected_at)) if part]
    lines = [" · ".join(head)]
    if clean(alert.article_title):
        lines.append(f"  {clean(alert.article_title)}")
    for claim in alert.claims:
        lines += _claim_lines(claim)
    lines.append(f"  {clean(alert.article_url)}")
    return "\n".join(lines) + "\n"


def render_digest_text(d: Digest) -> str:
    """A digest as lines of text ending with a newline. Pure."""
    p = fmt_digest.parts(d)

    def item(i: fmt_digest.ItemPart) -> str:
        line = f"  • {i.text}" + (f" — {i.attribution}" if i.attribution else "")
        return "\n".join([line, "      first: " + " · ".join(x for x in (i.title, i.byline) if x), f"      {i.url}"])

    lines = [f"[{p.watch}] digest · {p.summary}", *fmt_digest.entries(p, lambda day: f"  {day}\n", item)]
    return "\n".join([*lines, f"  {p.footer}"]) + "\n"


@register
class ConsoleSink:
    """Writes each alert to ``stream`` (``sys.stdout`` as it is at send time when not given)."""

    kind = "console"

    def __init__(self, name: str, stream: TextIO | None = None, *, watches: tuple[str, ...] | None = None):
        self.name, self.watches = name, watches
        self._stream = stream

    @classmethod
    def from_options(cls, name: str, options: Options, stream: TextIO | None = None) -> Sink:
        return cls(name, stream, watches=watches_of(options))

    def __repr__(self) -> str:
        return f"ConsoleSink(name={self.name!r})"

    def render(self, alert: Message) -> str:
        return render_digest_text(alert) if isinstance(alert, Digest) else render_text(alert)

    def send(self, alert: Message, client: httpx.Client) -> None:
        stream = self._stream if self._stream is not None else sys.stdout
        stream.write(self.render(alert) + "\n")
        stream.flush()
