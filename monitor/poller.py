"""The poll loop: due feeds -> one task per feed (``monitor.feed_poll``: read by type, ``monitor.sources``)
-> entries enqueued.

Many pollers may share one Redis: each feed is polled under its lease (``monitor.feed_poll``), its
items admitted by the watches (``monitor.admission``). The run loop starts each due feed as its own
task (at most ``network.concurrency`` at once), so a slow or trickling feed (cut off by
``fetch_deadline``) never holds the others back. A feed's failure never stops the loop. Redis being
away is logged in one line and waited out; the loop never dies of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import redis

from monitor.admission import Admission
from monitor.feed_poll import FeedPoller
from monitor.http import AsyncClient, safe_url
from monitor.models import Entry
from monitor.settings import FeedSettings, Settings
from monitor.store import Store

log = logging.getLogger(__name__)


class Poller:
    def __init__(self, settings: Settings, store: Store, enqueue: Callable[[Entry], None], *, ident: str,
                 client: AsyncClient | None = None, clock: Callable[[], float] = time.time,
                 digests: Callable[[float], object] | None = None):
        self.settings, self.store, self.ident, self.clock = settings, store, ident, clock
        self.digests = digests  # called every turn of the loop: closes digest periods (monitor.digests)
        self._feeds = {f.url: f for f in settings.feeds}
        self.admission = Admission(settings, store, enqueue)
        self.feed_poller = FeedPoller(settings, store, self.admission, ident=ident, client=client, clock=clock)

    async def aclose(self) -> None:
        await self.feed_poller.aclose()

    def sync_feeds(self) -> None:
        self.store.feeds.forget_gone_except(self._feeds)
        live = [u for u in self._feeds if self.store.feeds.state(u).get("gone") != "1"]
        self.store.feeds.register(live, now=self.clock())
        self.store.feeds.forget_except(live)

    async def poll_due(self) -> int:
        due = [self._feeds[u] for u in self.store.feeds.due(self.clock()) if u in self._feeds]
        limit = asyncio.Semaphore(self.settings.network.concurrency)

        async def one(feed: FeedSettings) -> int:
            async with limit:
                return await self.feed_poller.poll(feed, only_if_due=True)

        results = await asyncio.gather(*(one(f) for f in due), return_exceptions=True)
        for feed, r in zip(due, results, strict=True):
            if isinstance(r, BaseException):  # Redis trouble mid-poll: the lease expires, the feed stays due
                _log_aborted(feed, r)
        return sum(r for r in results if isinstance(r, int))

    async def poll_feed(self, feed: FeedSettings) -> int:
        """Poll one feed now (due or not), under its lease; the number of entries enqueued."""
        return await self.feed_poller.poll(feed, only_if_due=False)

    async def run(self, stop: asyncio.Event, *, grace: float = 10.0) -> None:
        """Poll due feeds until ``stop`` is set; then give in-flight polls ``grace`` seconds."""
        limit = asyncio.Semaphore(self.settings.network.concurrency)
        inflight: dict[str, asyncio.Task[int]] = {}
        synced, redis_down_since = False, None

        async def one(feed: FeedSettings) -> int:
            async with limit:
                return await self.feed_poller.poll(feed, only_if_due=True)

        try:
            while not stop.is_set():
                upcoming = None
                try:
                    if not synced:
                        self.sync_feeds()
                        synced = True
                    self.store.metrics.heartbeat("poller", self.ident)
                    for url in self.store.feeds.due(self.clock()):
                        if url in self._feeds and url not in inflight:
                            inflight[url] = asyncio.create_task(one(self._feeds[url]), name=f"poll {url}")
                    upcoming = self.store.feeds.next_due()
                    if self.digests is not None:  # after the feeds: a digest's trouble never holds a poll back
                        self.digests(self.clock())
                    if redis_down_since is not None:
                        log.info("poller %s: Redis is back after %.0f s", self.ident, self.clock() - redis_down_since)
                        redis_down_since = None
                except (redis.ConnectionError, redis.TimeoutError) as e:
                    if redis_down_since is None:
                        redis_down_since = self.clock()
                    log.warning("poller %s: Redis unreachable (%s); waiting", self.ident, type(e).__name__)
                except Exception:  # a bug: log, wait, try again
                    log.exception("poller %s: poll loop failed", self.ident)
                for url, task in list(inflight.items()):
                    if task.done():
                        del inflight[url]
                        if not task.cancelled() and (e := task.exception()) is not None:
                            _log_aborted(self._feeds[url], e)
                # feeds in flight stay due: don't spin on them
                busy = upcoming is not None and upcoming <= self.clock() and bool(inflight)
                wait = 1.0 if upcoming is None else min(1.0, max(0.2 if busy else 0.05, upcoming - self.clock()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=wait)
            if inflight:
                _done, pending = await asyncio.wait(inflight.values(), timeout=grace)
                for task in pending:  # their leases are released by FeedPoller.poll's finally
                    task.cancel()
                if pending:
                    await asyncio.wait(pending, timeout=5)
        finally:
            with contextlib.suppress(redis.RedisError):  # a stopped poller is not alive (`status`, /healthz)
                self.store.metrics.forget_heartbeat("poller", self.ident)
            await self.aclose()


def _log_aborted(feed: FeedSettings, e: BaseException) -> None:
    """A poll that died of something other than the feed (Redis away): the lease expires, the feed stays due."""
    name = feed.name or safe_url(feed.url)
    if isinstance(e, redis.RedisError):
        log.warning("feed %s: poll aborted, Redis unreachable (%s); it stays due", name, type(e).__name__)
    else:
        log.error("feed %s: poll aborted: %s: %s", name, type(e).__name__, e)
