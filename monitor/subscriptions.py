"""The ``claimwatch feeds`` commands: ``import FILE.opml`` (``[[feeds]]`` TOML tables, printed or
written to ``--output``), ``export`` (the configured feeds as OPML) and ``discover URL`` (the feeds
a web page names). I/O at the edges of ``monitor.opml`` and ``monitor.discover``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from monitor import discover, feeds, http, opml
from monitor.errors import ClaimwatchError, PermanentError, UsageError
from monitor.settings import Settings


def import_opml(settings: Settings, path: Path, *, watch: str | None, output: Path | None,
                out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    if watch is not None and watch not in (names := [w.name for w in settings.watches]):
        raise UsageError(f"feeds import --watch: no watch named {watch!r} (watches: {', '.join(names)})")
    if not path.is_file():
        raise UsageError(f"feeds import: {path}: no such file")
    if output is not None and output.exists():
        raise UsageError(f"feeds import --output: {output} exists; give a new file (it is not overwritten)")
    got = opml.read(path.read_bytes(), str(path))
    for why in got.skipped:
        print(f"skipped {why}", file=err)
    text = opml.to_toml(got.feeds, watch)
    head = (f"# {len(got.feeds)} feed(s) imported from {path.name}. Layer this file over your config\n"
            f"# (claimwatch run --config config/claimwatch.toml --config THIS): its [[feeds]] replace the list.\n\n")
    if output is None:
        out.write(head + text)
    else:
        output.write_text(head + text, encoding="utf-8")
        print(f"{len(got.feeds)} feed(s) written to {output}", file=err)
    return 0 if got.feeds else 1


def export_opml(settings: Settings, *, output: Path | None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    data = opml.export(settings.feeds)
    if output is None:
        out.write(data.decode("utf-8"))
    else:
        output.write_bytes(data)
    return 0


def discover_feeds(settings: Settings, url: str, *, out: TextIO | None = None) -> int:
    """Print the feeds ``url`` names (one per line: URL, kind, title); 0 when there is one."""
    out = out or sys.stdout
    net = settings.network
    try:
        with http.make_client(net) as client:
            page = http.fetch(client, url, net, max_bytes=net.max_page_bytes, deadline=net.page_deadline)
    except ClaimwatchError as e:
        raise UsageError(f"feeds discover: {e}") from None
    try:
        parsed = feeds.parse(page.body, page.url, page.headers, max_items=1)
    except PermanentError:
        parsed = None
    if parsed is not None:
        out.write(f"{page.url}\tfeed\t{parsed.title}\n")  # it is a feed itself
        return 0
    found = discover.alternates(page.body, page.url)
    for f in found:
        out.write(f"{f.url}\t{f.kind}\t{f.title}\n")
    if not found:
        print(f"claimwatch: {http.safe_url(page.url)} names no feed (no <link rel=\"alternate\" "
              f"type=\"application/rss+xml\"> or atom+xml in its head)", file=sys.stderr)
    return 0 if found else 1
