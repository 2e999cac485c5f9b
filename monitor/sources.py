"""A feed's read, by its type: what the poller gets from one poll of one source.

- ``rss`` (RSS, Atom, RDF, JSON Feed through feedparser): one conditional GET, the body parsed in
  a thread (``monitor.feeds``). A web page given as a feed fails ``not_a_feed`` with the feed URLs
  the page names (``monitor.discover``).
- ``telegram``: the channel's public web preview (``monitor.telegram.reader``); the newest post id
  read is kept on the feed (``tg_last``), so the next poll reads older pages only while it must.

Both give a ``Fetched``: the response that schedules the next poll, the items (None: not
modified), the feed state fields to save and the stage timings.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from monitor import discover, feeds
from monitor.errors import PermanentError
from monitor.feeds import ParsedFeed
from monitor.http import AsyncClient, Response, afetch
from monitor.settings import FeedSettings, NetworkSettings
from monitor.telegram import reader


@dataclass(frozen=True)
class Fetched:
    response: Response
    parsed: ParsedFeed | None  # None: not modified (304)
    state: dict[str, object]  # feed state fields of this type (``tg_last``)
    timings: dict[str, float]


async def read(client: AsyncClient, feed: FeedSettings, net: NetworkSettings, state: dict[str, str]) -> Fetched:
    conditional = {"If-None-Match": state.get("etag", ""), "If-Modified-Since": state.get("last_modified", "")}
    started = time.monotonic()
    if feed.type == "telegram":
        got = await reader.read(client, feed.url, net, conditional=conditional, last=int(state.get("tg_last") or 0))
        return Fetched(got.response, got.parsed, {"tg_last": got.newest}, {"feed_fetch": time.monotonic() - started})
    resp = await afetch(client, feed.url, net, max_bytes=net.max_feed_bytes, headers=conditional)
    timings = {"feed_fetch": time.monotonic() - started}
    if resp.status == 304:
        return Fetched(resp, None, {}, timings)
    started = time.monotonic()
    parsed = await asyncio.to_thread(_parse, resp, net.max_feed_items)
    timings["feed_parse"] = time.monotonic() - started
    return Fetched(resp, parsed, {}, timings)


def _parse(resp: Response, max_items: int) -> ParsedFeed:
    try:
        return feeds.parse(resp.body, resp.url, resp.headers, max_items=max_items)
    except PermanentError as e:
        if e.kind != "not_a_feed" or not discover.looks_like_html(resp.body):
            raise
        found = discover.alternates(resp.body, resp.url)
        raise PermanentError(f"{e}: a web page{discover.advice(found) or ', naming no feed of its own'}",
                             kind="not_a_feed") from None
