"""The poller's read of a channel: its preview page, and older pages while more was posted since the
last poll than one page shows.

The first page is asked for conditionally (the validators the feed's state keeps) and under the
usual guards: the SSRF check on every hop, ``max_feed_bytes`` per page, and one ``fetch_deadline``
for all the pages of a poll. While the oldest post on what was read is newer than the newest post
of the last poll (``last``), the page before it (``?before=<id>``) is read too, at most
``MAX_PAGES`` pages in all; posts that leave no room are counted as ``dropped`` (said once in the
log). The first poll of a channel reads one page.

A channel without a public preview (preview off, private, restricted: t.me sends ``/s/name`` to
``/name``, or the page shows no channel) raises ``PermanentError(kind="telegram_unavailable")`` with
what the page says: the poller counts it, logs it and backs off as for any failing feed.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from monitor.errors import PermanentError
from monitor.feeds import ParsedFeed
from monitor.http import AsyncClient, Response, afetch, safe_url
from monitor.settings import NetworkSettings
from monitor.telegram import channel as urls
from monitor.telegram import markup
from monitor.telegram.posts import items

MAX_PAGES = 5  # a poll reads at most this many pages (~20 posts each)


@dataclass(frozen=True)
class Read:
    response: Response  # the first page's (its status and headers schedule the next poll)
    parsed: ParsedFeed | None  # None: not modified (304)
    newest: int  # the newest post's id (0: none)


async def read(client: AsyncClient, url: str, net: NetworkSettings, *, conditional: dict[str, str],
               last: int = 0) -> Read:
    channel = urls.channel_of(url) or ""
    started = time.monotonic()
    resp, preview = await _page(client, url, channel, net, net.fetch_deadline, conditional)
    if preview is None:
        return Read(resp, None, last)
    posts, pages, dropped = list(preview.posts), 1, 0
    while last and posts and posts[0].id > last + 1:
        left = net.fetch_deadline - (time.monotonic() - started)
        if pages >= MAX_PAGES or len(posts) >= net.max_feed_items or left <= 1.0:
            dropped = posts[0].id - last - 1  # at most: ids count deleted and service messages too
            break
        _, older = await _page(client, urls.page_url(url, posts[0].id), channel, net, left, {})
        pages += 1
        if older is None or not older.posts or older.posts[-1].id >= posts[0].id:  # no progress: stop
            break
        posts = [p for p in older.posts if p.id > last] + posts
    if len(posts) > net.max_feed_items:
        dropped += len(posts) - net.max_feed_items
        posts = posts[-net.max_feed_items:]
    newest = max([last, *(p.id for p in posts)])
    return Read(resp, ParsedFeed(preview.title, items(posts), None, None, dropped), newest)


async def _page(client: AsyncClient, url: str, channel: str, net: NetworkSettings, deadline: float,
                conditional: dict[str, str]) -> tuple[Response, markup.Preview | None]:
    resp = await afetch(client, url, net, max_bytes=net.max_feed_bytes, headers=conditional, deadline=deadline)
    if not urls.still_preview(url, resp.url):
        if (moved := urls.channel_of(urls.page_url(resp.url))) is not None:
            raise PermanentError(f"channel {channel} redirects to the preview of {moved} ({safe_url(resp.url)}): "
                                 f'renamed? use channel = "{moved}"', kind="telegram_unavailable")
        raise PermanentError(f"channel {channel} has no public preview ({safe_url(url)} redirects to "
                             f"{safe_url(resp.url)}): the preview is off, or the channel is private or restricted",
                             kind="telegram_unavailable")
    if resp.status == 304:
        return resp, None
    preview = await asyncio.to_thread(markup.parse, resp.body, channel)
    if preview.unavailable is not None:
        raise PermanentError(f"channel {channel} shows no public preview: {preview.unavailable[:200]}",
                             kind="telegram_unavailable")
    return resp, preview
