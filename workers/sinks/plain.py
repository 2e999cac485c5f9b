"""Text from an untrusted page made safe for any target: one line, no escape sequences, no control
characters or bidirectional overrides (an article can neither drive a terminal nor fake extra lines),
shortened with "…", and times shown one way."""

from __future__ import annotations

import re
from datetime import UTC, datetime

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
