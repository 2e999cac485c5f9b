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

import re
import sys
from datetime import UTC, datetime
from typing import TextIO

import httpx

from monitor.models import Alert, Claim
from workers.sinks.base import Options, Sink, register, watches_of

_ESCAPES = re.compile(
    r"""
      \x1b\[[0-?]*[ -/]*[@-~]                 # CSI: colours, cursor moves, erase
    | \x9b[0-?]*[ -/]*[@-~]                   # 8-bit CSI
    | \x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?   # OSC (titles, hyperlinks), DCS, SOS, PM, APC
    | \x1b[ -/]*[0-~]                         # other ESC sequences (charset switches, resets)
    """,
    re.VERBOSE,
)
# C0 and C1 controls, DEL, bidi embeddings/overrides/isolates and marks.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"\s+")
_NEAREST_MAX = 100


def clean(text: str | None) -> str:
    """``text`` safe for a terminal, on one line."""
    if not text:
        return ""
    text = _ESCAPES.sub("", text)
    text = _CONTROLS.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def when(value: str | None) -> str:
    """An ISO 8601 time as ``2023-05-23 10:00 UTC`` (naive times are taken as UTC)."""
    if not value:
        return ""
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        return clean(value)
    t = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    return t.strftime("%Y-%m-%d %H:%M UTC")


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

    def render(self, alert: Alert) -> str:
        return render_text(alert)

    def send(self, alert: Alert, client: httpx.Client) -> None:
        stream = self._stream if self._stream is not None else sys.stdout
        stream.write(self.render(alert) + "\n")
        stream.flush()
