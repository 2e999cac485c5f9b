"""A watch's claims, all of them (or those a filter picks), as CSV or JSON Lines, newest first,
streamed a page at a time (a long history never sits in memory whole)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from monitor.store import Store
from monitor.store.claims import Filters

PAGE = 500
COLUMNS = ["id", "seq", "text", "attribution", "first_seen", "first_outlet", "first_url", "first_title",
           "first_published", "first_language", "repeats", "repeat_outlets", "repeat_languages", "feedback"]


def claims(store: Store, watch: str, filters: Filters | None = None) -> Iterator[dict[str, Any]]:
    before = 0
    while True:
        page, more = store.claims.page(watch, filters or Filters(), limit=PAGE, before=before)
        yield from page
        if more is None:
            return
        before = more


def _row(c: dict[str, Any]) -> list[Any]:
    f, s = c["first"], c["summary"]
    return [c["id"], c["seq"], c["text"], c.get("attribution") or "", f.get("seen") or "", f.get("outlet") or "",
            f.get("url") or "", f.get("title") or "", f.get("published") or "", f.get("lang") or "",
            s["repeats"], s["outlets"], " ".join(s["languages"]), (c.get("feedback") or {}).get("kind", "")]


def _safe(cell: Any) -> Any:
    """A cell a spreadsheet would read as a formula (=, +, -, @ first) gets a leading apostrophe."""
    return "'" + cell if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def csv_lines(store: Store, watch: str, filters: Filters | None = None) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    for c in claims(store, watch, filters):
        writer.writerow([_safe(v) for v in _row(c)])
        if buf.tell() > 65536:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def jsonl_lines(store: Store, watch: str, filters: Filters | None = None) -> Iterator[str]:
    for c in claims(store, watch, filters):
        yield json.dumps(c, ensure_ascii=False) + "\n"
