"""Which watches take a feed's items, and each new one enqueued once as an ``Entry``.

An item is kept by a watch whose keywords match its title and summary (``monitor.filters``), or
whose learned profile admits it (``monitor.profile``; re-read every ``PROFILE_REFRESH`` seconds),
unless it is older than the watch's ``max_age_days``. Items that no watch takes are counted in
``entries_filtered:{keywords,max_age}`` once each (an item still in the feed at the next poll is not
counted again by the same poller) and logged at DEBUG with their title.

Seen keys: a GUID is only unique within its feed (two outlets both number their items 1, 2, 3...),
so it is scoped by the feed; the canonical URL is global (the same article in two feeds is one entry).
An entry without a link gets a stable stand-in URL (``{feed}#entry-{hash}``); its article is the
feed's title and summary. An entry whose enqueue fails is un-marked as seen (``TransientError``:
the feed's poll fails and the next one sees the entry again).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from monitor import feeds
from monitor.errors import TransientError
from monitor.filters import Words, watch_query
from monitor.http import safe_url
from monitor.models import Entry
from monitor.profile import admits
from monitor.settings import FeedSettings, Settings
from monitor.store import Store, digest

log = logging.getLogger(__name__)
PROFILE_REFRESH = 10.0  # seconds between reads of the watches' learned profiles
# an item's watches, those of them that take it by their learned profile alone, and when none does, why
Matched = tuple[tuple[str, ...], tuple[str, ...], str | None]
_DROPPED = {"keywords": "no watch's keywords or learned profile match", "max_age": "older than max_age_days"}


class Admission:
    """One poller's admission of feed items: the watches' queries, their learned profiles, and which
    items each feed's last poll dropped (so a dropped item is counted once)."""

    def __init__(self, settings: Settings, store: Store, enqueue: Callable[[Entry], None]):
        self.store, self.enqueue = store, enqueue
        self._queries = {w.name: watch_query(w) for w in settings.watches}
        self._max_age = {w.name: w.max_age_days * 86400.0 for w in settings.watches if w.max_age_days}
        self._profiles: dict[str, set[str]] = {}  # learned stems per watch (monitor.profile), re-read every
        self._profiles_read = float("-inf")       # PROFILE_REFRESH seconds
        self._filtered: dict[str, set[str]] = {}  # feed URL -> GUIDs its last poll dropped (counted once)

    def learned_profiles(self) -> dict[str, set[str]]:
        now = time.monotonic()
        if now - self._profiles_read >= PROFILE_REFRESH:
            self._profiles = {name: self.store.known.profile(name) for name in self._queries}
            self._profiles_read = now
        return self._profiles

    def match(self, feed: FeedSettings, items: list[feeds.FeedItem], now: float,
              profiles: dict[str, set[str]]) -> list[Matched]:
        """Each item's watches (pure: the poller runs it in a thread)."""
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

    def enqueue_items(self, feed: FeedSettings, parsed: feeds.ParsedFeed, matched: list[Matched],
                      counts: dict[str, int]) -> int:
        """Enqueue each matched item not seen before; the number enqueued (``counts`` gains the drops)."""
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


def _age(published: str | None, now: float) -> float | None:
    if not published:
        return None
    try:
        return now - datetime.fromisoformat(published).timestamp()
    except ValueError:
        return None
