"""Due feeds -> read by type (``monitor.sources``: an RSS/Atom feed's conditional GET and parse, a
Telegram channel's preview pages) -> watch queries -> seen check -> enqueue one Entry per new item.

Many pollers may share one Redis: a feed is polled only under its lease, and only while it is still
due once the lease is held (another poller may have just polled and rescheduled it). The next poll
time is saved before the lease is released. A feed's failure is counted, logged, saved on the feed
and backed off; it never stops the loop. An entry whose enqueue fails is un-marked as seen and the
feed's validators are not saved, so the next poll sees the entry again (at least once).

The run loop starts each due feed as its own task (at most ``network.concurrency`` at once), so a
slow or trickling feed (cut off by ``fetch_deadline``) never holds the others back; the feed document
is parsed in a thread so a huge one does not stall the loop, and its items are matched against the
watches' keywords in a thread too (matching is linear, but 20 MB of feed text still takes a second).
Redis being away is logged in one line and waited out; the loop never dies of it.

Items that no watch takes (no keyword matches, or older than ``max_age_days``) are counted in
``entries_filtered:{keywords,max_age}`` once each (an item still in the feed at the next poll is not
counted again by the same poller) and logged at DEBUG with their title.

Seen keys: a GUID is only unique within its feed (two outlets both number their items 1, 2, 3...),
so it is scoped by the feed; the canonical URL is global (the same article in two feeds is one entry).
An entry without a link gets a stable stand-in URL (``{feed}#entry-{hash}``); its article is the
feed's title and summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime

import redis

from monitor import feeds, sources
from monitor.errors import ClaimwatchError, Gone, TransientError
from monitor.filters import Words, watch_query
from monitor.http import AsyncClient, cache_max_age, make_async_client, safe_url
from monitor.models import Entry
from monitor.profile import admits
from monitor.schedule import next_poll
from monitor.settings import FeedSettings, Settings
from monitor.store import Store, digest

log = logging.getLogger(__name__)
PROFILE_REFRESH = 10.0  # seconds between reads of the watches' learned profiles
# an item's watches, those of them that take it by their learned profile alone, and when none does, why
Matched = tuple[tuple[str, ...], tuple[str, ...], str | None]
_DROPPED = {"keywords": "no watch's keywords or learned profile match", "max_age": "older than max_age_days"}


class Poller:
    def __init__(self, settings: Settings, store: Store, enqueue: Callable[[Entry], None], *, ident: str,
                 client: AsyncClient | None = None, clock: Callable[[], float] = time.time,
                 digests: Callable[[float], object] | None = None):
        self.settings, self.store, self.enqueue, self.ident, self.clock = settings, store, enqueue, ident, clock
        self.digests = digests  # called every turn of the loop: closes digest periods (monitor.digests)
        self._client, self._own_client = client, client is None
        self._feeds = {f.url: f for f in settings.feeds}
        self._queries = {w.name: watch_query(w) for w in settings.watches}
        self._max_age = {w.name: w.max_age_days * 86400.0 for w in settings.watches if w.max_age_days}
        self._profiles: dict[str, set[str]] = {}  # learned stems per watch (monitor.profile), re-read every
        self._profiles_read = float("-inf")       # PROFILE_REFRESH seconds
        self._filtered: dict[str, set[str]] = {}  # feed URL -> GUIDs its last poll dropped (counted once)

    @property
    def client(self) -> AsyncClient:
        if self._client is None:  # made on first use, inside the running loop (aiohttp needs one)
            self._client = make_async_client(self.settings.network)
        return self._client

    async def aclose(self) -> None:
        if self._own_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    # ------------------------------------------------------------------ scheduling

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
                return await self._poll(feed, only_if_due=True)

        results = await asyncio.gather(*(one(f) for f in due), return_exceptions=True)
        for feed, r in zip(due, results, strict=True):
            if isinstance(r, BaseException):  # Redis trouble mid-poll: the lease expires, the feed stays due
                _log_aborted(feed, r)
        return sum(r for r in results if isinstance(r, int))

    async def poll_feed(self, feed: FeedSettings) -> int:
        """Poll one feed now (due or not), under its lease; the number of entries enqueued."""
        return await self._poll(feed, only_if_due=False)

    async def run(self, stop: asyncio.Event, *, grace: float = 10.0) -> None:
        """Poll due feeds until ``stop`` is set; then give in-flight polls ``grace`` seconds."""
        limit = asyncio.Semaphore(self.settings.network.concurrency)
        inflight: dict[str, asyncio.Task[int]] = {}
        synced, redis_down_since = False, None

        async def one(feed: FeedSettings) -> int:
            async with limit:
                return await self._poll(feed, only_if_due=True)

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
                for task in pending:  # their leases are released by _poll's finally
                    task.cancel()
                if pending:
                    await asyncio.wait(pending, timeout=5)
        finally:
            await self.aclose()

    # ------------------------------------------------------------------ one feed

    async def _poll(self, feed: FeedSettings, *, only_if_due: bool) -> int:
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
            matched = await asyncio.to_thread(self._match_items, feed, parsed.items, now, self._learned_profiles())
            n = self._enqueue_items(feed, parsed, matched, counts)
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

    def _learned_profiles(self) -> dict[str, set[str]]:
        now = time.monotonic()
        if now - self._profiles_read >= PROFILE_REFRESH:
            self._profiles = {name: self.store.known.profile(name) for name in self._queries}
            self._profiles_read = now
        return self._profiles

    def _match_items(self, feed: FeedSettings, items: list[feeds.FeedItem], now: float,
                     profiles: dict[str, set[str]]) -> list[Matched]:
        return [self._watches_for(feed, item, now, profiles) for item in items]

    def _watches_for(self, feed: FeedSettings, item: feeds.FeedItem, now: float,
                     profiles: dict[str, set[str]]) -> Matched:
        """(the watches that keep the item, those of them that keep it by their learned profile alone,
        and when none keeps it, why: ``max_age`` if a watch's keywords match but the item is too old
        for it, else ``keywords``)."""
        text = f"{item.title}\n{item.summary}"
        words = Words(text)
        names = feed.watches if feed.watches is not None else list(self._queries)
        age = _age(item.published, now)
        kept, learned, old = [], [], []
        for n in names:
            if age is not None and n in self._max_age and age > self._max_age[n]:
                old.append(n)
            elif self._queries[n].matches_words(words):
                kept.append(n)
            elif admits(text, profiles.get(n, set())):
                kept.append(n)
                learned.append(n)
        if kept:
            return tuple(kept), tuple(learned), None
        return (), (), "max_age" if any(self._queries[n].matches_words(words) for n in old) else "keywords"

    def _enqueue_items(self, feed: FeedSettings, parsed: feeds.ParsedFeed, matched: list[Matched],
                       counts: dict[str, int]) -> int:
        n = 0
        dropped: set[str] = set()
        before = self._filtered.get(feed.url, set())
        for item, (watches, learned, why) in zip(parsed.items, matched, strict=True):
            if not watches:
                dropped.add(item.guid)
                if item.guid not in before:
                    counts[f"entries_filtered:{why}"] = counts.get(f"entries_filtered:{why}", 0) + 1
                    log.debug("feed %s: entry dropped (%s): %s", feed.name or safe_url(feed.url), _DROPPED[why],
                              item.title[:200])
                continue
            keys = [f"guid:{feed.url}|{item.guid}"] + ([f"url:{item.url}"] if item.url else [])
            if not self.store.seen.mark(keys):
                continue
            url = item.url or item.link
            if not url:  # no link: a stable stand-in; the article is the feed's own text
                url = f"{feed.url.split('#', 1)[0]}#entry-{digest(item.guid, 8)}"
                self.store.metrics.count("entries_without_link")
            entry = Entry(watches=watches, feed_url=feed.url, feed_name=feed.name or parsed.title,
                          url=url, link=item.link, guid=item.guid, title=item.title,
                          summary=item.summary, published=item.published, author=item.author, learned=learned,
                          text=item.text, origin=item.origin)
            try:
                self.enqueue(entry)
            except Exception as e:
                self.store.seen.unmark(keys)
                raise TransientError(f"enqueue failed: {type(e).__name__}: {e}", kind="enqueue") from e
            if learned:
                counts["entries_learned"] = counts.get("entries_learned", 0) + 1
            n += 1
        self._filtered[feed.url] = dropped
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


def _log_aborted(feed: FeedSettings, e: BaseException) -> None:
    """A poll that died of something other than the feed (Redis away): the lease expires, the feed stays due."""
    name = feed.name or safe_url(feed.url)
    if isinstance(e, redis.RedisError):
        log.warning("feed %s: poll aborted, Redis unreachable (%s); it stays due", name, type(e).__name__)
    else:
        log.error("feed %s: poll aborted: %s: %s", name, type(e).__name__, e)


def _age(published: str | None, now: float) -> float | None:
    if not published:
        return None
    try:
        return now - datetime.fromisoformat(published).timestamp()
    except ValueError:
        return None
