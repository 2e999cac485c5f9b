"""claimwatch's state in Redis: one module per concern, one ``Store`` that holds them all.

``Store(client)`` owns the client and exposes each concern as an attribute, so a call says which
part of the state it touches and where its code is::

    store.feeds       feeds.Feeds                  feed state, schedule, leases (a poll's two round trips)
    store.seen        seen.Seen                    entries seen (packed digests)
    store.articles    articles.Articles            per-article records, the page cache
    store.dedup       dedup.Dedup                  content owners, the near-duplicate (LSH) index
    store.known       known.KnownSentences         known sentences (``KnownRecord``), seed files, novelty lock
    store.alerts      alerts.Alerts                saved alerts, the alert log
    store.deliveries  deliveries.Deliveries        delivery status per sink, dead letters
    store.digests     digests.Digests              digest sinks' buffers, formed digests, their leases
    store.rates       rates.RateLimits             chat targets' send slots
    store.metrics     metrics.Metrics              counters, latencies, heartbeats
    store.claims      claims.Claims                each watch's claim history: first source, repeats
    store.history     history.History              each watch's articles and claims per day, outcomes
    store.verdicts    verdicts.Verdicts            each article's verdicts, sentence by sentence
    store.feedback    feedback.Feedback            the users' feedback and whether it was applied

``keys`` names every key (the whole ``cw:`` layout, documented once); ``hashing`` is the one hash
behind every derived name and id; ``packed`` and ``docs`` are the compact forms two concerns share.
Each Lua script sits beside the operation it makes atomic.
"""

from __future__ import annotations

import redis

from monitor.store.alerts import Alerts
from monitor.store.articles import Articles
from monitor.store.claims import Claims
from monitor.store.dedup import Dedup
from monitor.store.deliveries import Deliveries
from monitor.store.digests import Digests
from monitor.store.feedback import Feedback
from monitor.store.feeds import Feeds
from monitor.store.hashing import digest
from monitor.store.history import History
from monitor.store.known import KnownSentences
from monitor.store.known_record import KnownRecord
from monitor.store.metrics import Metrics
from monitor.store.rates import RateLimits
from monitor.store.seen import Seen
from monitor.store.verdicts import Verdicts

__all__ = ["KnownRecord", "Store", "digest"]


class Store:
    """Every piece of state the service keeps, by concern. Takes a ``redis.Redis`` client (bytes replies)."""

    def __init__(self, client: redis.Redis):
        self.client = client
        self.feeds = Feeds(client)
        self.seen = Seen(client)
        self.articles = Articles(client)
        self.dedup = Dedup(client)
        self.known = KnownSentences(client)
        self.alerts = Alerts(client)
        self.deliveries = Deliveries(client)
        self.digests = Digests(client)
        self.rates = RateLimits(client)
        self.metrics = Metrics(client)
        self.claims = Claims(client)
        self.history = History(client)
        self.verdicts = Verdicts(client)
        self.feedback = Feedback(client)

    def clear_leases(self) -> int:
        """Drop every feed lease, digest lease and novelty lock; how many there were. For the start of a service
        that owns its Redis: nobody else can hold one, and one held by a process killed meanwhile
        would block the others until it expired."""
        return self.feeds.clear_leases() + self.digests.clear_leases() + self.known.clear_locks()
