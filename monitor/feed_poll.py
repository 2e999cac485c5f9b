"""One feed's poll: under its lease, read by type (``monitor.sources``) -> admission -> state and next poll.

A feed is polled only under its lease, and only while it is still due once the lease is held
(another poller may have just polled and rescheduled it). The feed's state, its next poll time and
the release of the lease are one round trip at the end, writing only the state fields that changed.
A feed's failure is counted, logged, saved on the feed and backed off (``monitor.schedule``); an
HTTP 410 retires it. The document is parsed in a thread so a huge one does not stall the loop, and
its items are matched against the watches in a thread too (matching is linear, but 20 MB of feed
text still takes a second). An entry whose enqueue fails leaves the feed's validators unsaved, so
the next poll sees the entry again (at least once).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import redis

from monitor import sources
from monitor.admission import Admission
from monitor.errors import ClaimwatchError, Gone
from monitor.http import AsyncClient, cache_max_age, make_async_client, safe_url
from monitor.schedule import next_poll
from monitor.settings import FeedSettings, Settings
from monitor.store import Store

log = logging.getLogger(__name__)


class FeedPoller:
    """Polls one feed at a time for one poller (``ident``), with its HTTP client."""

    def __init__(self, settings: Settings, store: Store, admission: Admission, *, ident: str,
                 client: AsyncClient | None = None, clock: Callable[[], float] = time.time):
        self.settings, self.store, self.admission, self.ident, self.clock = settings, store, admission, ident, clock
        self._client, self._own_client = client, client is None

    @property
    def client(self) -> AsyncClient:
        if self._client is None:  # made on first use, inside the running loop (aiohttp needs one)
            self._client = make_async_client(self.settings.network)
        return self._client

    async def aclose(self) -> None:
        if self._own_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def poll(self, feed: FeedSettings, *, only_if_due: bool) -> int:
        """Poll ``feed`` under its lease (if still due, with ``only_if_due``); the entries enqueued."""
        url = feed.url
        # the lease, the due check (another poller may have polled it between our due list and now),
        # the poll counter and the feed's state: one round trip
        state = self.store.feeds.begin_poll(url, self.ident, self.settings.service.feed_lease,
                                      due_by=self.clock() if only_if_due else None)
        if state is None:
            return 0
        released = False
        try:
            try:
                n = await self._fetch_and_enqueue(feed, state)  # its last round trip lets go of the lease
                released = True
                return n
            except ClaimwatchError as e:
                self._failed(feed, state, e)
            except redis.RedisError:
                raise  # not the feed's fault: it stays due, the loop waits for Redis
            except Exception as e:  # a bug must not stop the loop or leave the feed due forever
                log.exception("feed %s: unexpected error", feed.name or safe_url(url))
                self._failed(feed, state, ClaimwatchError(type(e).__name__, kind="internal"))
            return 0
        finally:
            if not released:
                self.store.feeds.release_lease(url, self.ident)

    def _interval(self, feed: FeedSettings) -> float:
        return feed.interval or self.settings.service.poll_interval

    async def _fetch_and_enqueue(self, feed: FeedSettings, state: dict[str, str]) -> int:
        """Fetch, parse and enqueue; then save the feed's state, schedule it and let go of its lease, in one
        round trip that writes only the state fields that changed (a 304 changes little)."""
        got = await sources.read(self.client, feed, self.settings.network, state)
        resp, parsed, timings = got.response, got.parsed, got.timings
        now = self.clock()
        saved: dict[str, object] = {
            "url": feed.url, "last_status": resp.status, "last_ok": now, "errors": 0, "last_error": "",
            "etag": resp.headers.get("etag") or state.get("etag", ""),
            "last_modified": resp.headers.get("last-modified") or state.get("last_modified", ""), **got.state}
        ttl, n = None, 0
        counts: dict[str, int] = {}
        if parsed is None:
            counts["feed_304"] = 1
        else:
            net = self.settings.network
            if parsed.dropped:
                counts["feed_items_dropped"] = parsed.dropped
                if str(parsed.dropped) != state.get("dropped"):  # said once, not at every poll
                    log.warning("feed %s: %d item(s) not read (beyond max_feed_items %d, or nothing to identify "
                                "them)", feed.name or safe_url(feed.url), parsed.dropped, net.max_feed_items)
            profiles = self.admission.learned_profiles()
            matched = await asyncio.to_thread(self.admission.match, feed, parsed.items, now, profiles)
            n = self.admission.enqueue_items(feed, parsed, matched, counts)
            ttl = parsed.ttl
            saved |= {"title": parsed.title, "items": len(parsed.items), "problem": parsed.problem or "",
                      "dropped": parsed.dropped,
                      "entries": int(state.get("entries") or 0) + n}
            if n:
                counts["entries"] = n
        when = next_poll(now, self._interval(feed), max_age=cache_max_age(resp.headers, now), ttl=ttl,
                         cap=self.settings.service.max_backoff)
        saved["next_poll"] = when
        changed = {k: v for k, v in saved.items() if state.get(k) != ("" if v is None else str(v))}
        self.store.feeds.finish_poll(feed.url, self.ident, changed, next_poll=when, counts=counts, timings=timings)
        return n

    def _failed(self, feed: FeedSettings, state: dict[str, str], e: ClaimwatchError) -> None:
        now, errors = self.clock(), int(state.get("errors") or 0) + 1
        name = feed.name or safe_url(feed.url)
        self.store.metrics.count(f"feed_error:{e.kind}")
        saved: dict[str, object] = {"errors": errors, "last_error": f"{e.kind}: {e}", "last_fail": now}
        if isinstance(e, Gone) and e.kind == "http_410":
            log.warning("feed %s is gone (HTTP 410): no longer polled; remove it from the config", name)
            self.store.feeds.save_state(feed.url, saved | {"gone": 1})
            self.store.feeds.mark_gone(feed.url)
            return
        when = next_poll(now, self._interval(feed), errors=errors, retry_after=getattr(e, "retry_after", None),
                         cap=self.settings.service.max_backoff)
        log.warning("feed %s failed (%s: %s); error %d in a row, next try in %.0f s",
                    name, e.kind, e, errors, when - now)
        self.store.feeds.save_state(feed.url, saved | {"next_poll": when}, next_poll=when)
