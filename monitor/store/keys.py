"""Every Redis key claimwatch writes, in one place: its name, its type and what it holds.

Every name starts with ``cw:`` (RQ's own keys, ``rq:*``, are RQ's). A ``{fh}`` or ``{uh}`` in a name is
``hashing.digest`` of the feed's or page's URL. Nothing is kept in a key of its own per article:
a key costs 60-90 B of Redis overhead before its value, so per-article data lives in a few shared
hashes (benchmarks/memory.py: 723 B per seen article at 100k articles, 2,051 B with its 5 known
sentences; tests/integration/test_store_layout.py pins it).

    key                       type    holds                                        module
    cw:feed:{fh}              hash    one feed's state                             feeds
    cw:due                    zset    feed url -> next poll                        feeds
    cw:gone                   set     feeds that answered 410                      feeds
    cw:lease:{fh}             string  the poller polling a feed                    feeds
    cw:seen:packed            hash    entries seen (packed 8-byte digests)         seen
    cw:page:{uh}              string  an entry's fetched article (zlib JSON, 1 d)  articles
    cw:articles               hash    per article: status and outcomes             articles
    cw:w:{watch}:owner        hash    content hash -> first text with it           dedup
    cw:w:{watch}:docs         hash    short id -> text id (+ MinHash signature)    docs
    cw:w:{watch}:lsh          hash    near-duplicate index (packed)                dedup
    cw:w:{watch}:known        list    the watch's known sentences                  known
    cw:w:{watch}:seeded       hash    seed file -> content hash                    known
    cw:w:{watch}:lock         string  novelty lock                                 known
    cw:w:{watch}:seed:lock    string  seed lock: one worker seeds, others wait     known
    cw:w:{watch}:claims       hash    claim id -> its record and first source      claims
    cw:w:{watch}:claims:seq   string  claims recorded (each one's seq)             claims
    cw:w:{watch}:claims:lines:{n} string  chunk n of the timeline's search lines   claims
    cw:w:{watch}:claimof      hash    sentence hash -> the claim it is or repeats  claims
    cw:w:{watch}:byurl        hash    article url hash -> the claims it carried    claims
    cw:w:{watch}:repeats:{id} list    the articles that repeated a claim           claims
    cw:w:{watch}:daily        hash    "day|claims", "day|articles" -> count        history
    cw:w:{watch}:outcomes     hash    outcome -> articles                          history
    cw:w:{watch}:verdicts:{uh} string an article's verdicts (zlib JSON, 30 d)      verdicts
    cw:feedback               hash    feedback id -> the user's feedback (JSON)    feedback
    cw:feedback:log           list    feedback ids, newest last                    feedback
    cw:alerts                 stream  alert log (last ~10,000)                     alerts
    cw:alert:{alert_id}       string  the alert as JSON (30 d)                     alerts
    cw:delivery:{alert_id}    hash    sink -> "sent" | "failed: kind"              deliveries
    cw:dead                   list    deliveries that failed for good              deliveries
    cw:digest:{sink}:{watch}:buffer  hash  alert id -> alert, awaiting the digest  digests
    cw:digest:{sink}:{watch}:claims  string  claims in the buffer                   digests
    cw:digest:{sink}:{watch}:period  string  the last period boundary handled       digests
    cw:digest:{sink}:{watch}:since   string  the end of the last digest formed      digests
    cw:digest:batch:{digest_id}  hash  a formed digest's alerts, until enqueued     digests
    cw:digests:pending        hash    digest id -> sink, watch, since, until       digests
    cw:digest:lease:{digest_id}  string  the poller enqueueing a formed digest      digests
    cw:rate:{target}          string  a chat target's next free send slot          rates
    cw:rate:{target}:block    string  no send to it before this (a 429)            rates
    cw:stats                  hash    counters                                     metrics
    cw:latency                hash    stage timings: sums, counts, histograms      metrics
    cw:heartbeat:{role}:{id}  string  a poller's liveness (expires)                metrics

Each name below says more.
"""

from __future__ import annotations

from monitor.store.hashing import digest

PREFIX = "cw:"

# ---------------------------------------------------------------------- feeds


def feed(url: str) -> str:
    """hash: a feed's state (url, etag, last_modified, last_status, next_poll, errors, last_error,
    gone, title, items, entries, ...). Kept for ``status`` after the feed is gone."""
    return f"{PREFIX}feed:{digest(url)}"


DUE = PREFIX + "due"
"""zset: feed url -> when it is due next (unix seconds). A gone (410) feed leaves it."""

GONE = PREFIX + "gone"
"""set: feed urls that answered 410: no longer polled; ``status`` still lists them."""


def lease(url: str) -> str:
    """string: the poller holding this feed (SET NX PX): two pollers never poll one feed at once."""
    return f"{PREFIX}lease:{digest(url)}"


LEASES = PREFIX + "lease:*"
"""Pattern of every feed lease (dropped at the start of a service that owns its Redis)."""

# ---------------------------------------------------------------------- entries and articles

SEEN = PREFIX + "seen:packed"
"""hash, packed (``packed``): bucket -> the 8-byte digests of the entries' keys ("guid:{feed url}|{guid}",
"url:{canonical url}") seen, end to end: ~10 B per key where a set member costs ~65."""


def page(url: str) -> str:
    """string: the article fetched for an entry (zlib JSON, kept 1 day): a job re-run after a crash
    does not fetch the page again."""
    return f"{PREFIX}page:{digest(url)}"


ARTICLES = PREFIX + "articles"
"""hash: 8-byte url digest -> the article's record ("name RS value" pairs joined by US): status,
from_summary, watch:{name} outcomes, duplicate_of."""

# ---------------------------------------------------------------------- per watch


def owner(watch: str) -> str:
    """hash: content hash (8 bytes) -> short id of the first text with that content."""
    return f"{PREFIX}w:{watch}:owner"


def docs(watch: str) -> str:
    """hash: short id (8 bytes) -> text id (article url, seed:file), after its MinHash signature
    (64 x uint16) once indexed (``docs``). Also names known sentences' sources."""
    return f"{PREFIX}w:{watch}:docs"


def lsh(watch: str) -> str:
    """hash, packed: band + bucket -> 12-byte records (4 more bytes of the band's hash, short id):
    the near-duplicate index, 16 bands of 4 rows."""
    return f"{PREFIX}w:{watch}:lsh"


def known(watch: str) -> str:
    """list: the sentences the watch knows (seed, accepted articles, alerts), one ``KnownRecord`` per
    element in its binary form (``known_record``), in the order they became known."""
    return f"{PREFIX}w:{watch}:known"


def seeded(watch: str) -> str:
    """hash: seed file path -> content hash of what was added (seeding is idempotent)."""
    return f"{PREFIX}w:{watch}:seeded"


def profile(watch: str) -> str:
    """set: stems of the terms topical for the watch (``monitor.profile``): the poller keeps an entry
    whose title and summary hold enough of them though no keyword matches."""
    return f"{PREFIX}w:{watch}:profile"


def lock(watch: str) -> str:
    """string: the novelty lock (redis-py's): judge-and-register is atomic per watch."""
    return f"{PREFIX}w:{watch}:lock"


def seed_lock(watch: str) -> str:
    """string: the seed lock (redis-py's): one worker reads and encodes the watch's seed, the others wait."""
    return f"{PREFIX}w:{watch}:seed:lock"


LOCKS = PREFIX + "w:*:lock"
"""Pattern of every novelty lock (and seed lock)."""

# ---------------------------------------------------------------------- the desk: claim history


def claims(watch: str) -> str:
    """hash: claim id -> the claim as JSON (text, attribution, alert id, first source, seq, feedback)."""
    return f"{PREFIX}w:{watch}:claims"


def claims_seq(watch: str) -> str:
    """string: how many claims were recorded; each claim's ``seq`` orders the timeline."""
    return f"{PREFIX}w:{watch}:claims:seq"


def claims_chunk(watch: str, n: int | str) -> str:
    """string: the timeline's search lines of claims (n * CHUNK, (n + 1) * CHUNK] (``claims``)."""
    return f"{PREFIX}w:{watch}:claims:lines:{n}"


def claim_of(watch: str) -> str:
    """hash: 8-byte hash of a folded sentence -> the id of the claim it is, or repeats."""
    return f"{PREFIX}w:{watch}:claimof"


def claims_by_url(watch: str) -> str:
    """hash: 8-byte url hash -> the ids of the claims the article carried, comma-separated."""
    return f"{PREFIX}w:{watch}:byurl"


def claim_repeats(watch: str, claim_id: str) -> str:
    """list: the articles that repeated a claim after its first source (one per article)."""
    return f"{PREFIX}w:{watch}:repeats:{claim_id}"


def daily(watch: str) -> str:
    """hash: "YYYY-MM-DD|claims" and "YYYY-MM-DD|articles" -> how many that day (UTC)."""
    return f"{PREFIX}w:{watch}:daily"


def outcomes(watch: str) -> str:
    """hash: outcome (new_claims, no_new_claims, duplicate, off_topic, no_match) -> articles."""
    return f"{PREFIX}w:{watch}:outcomes"


def verdicts(watch: str, url: str) -> str:
    """string: what the watch made of one article, sentence by sentence (zlib JSON, 30 days)."""
    return f"{PREFIX}w:{watch}:verdicts:{digest(url)}"


FEEDBACK = PREFIX + "feedback"
"""hash: feedback id -> the user's feedback as JSON (kind, watch, what, status)."""

FEEDBACK_LOG = PREFIX + "feedback:log"
"""list: feedback ids in the order given."""

# ---------------------------------------------------------------------- alerts and deliveries

ALERTS = PREFIX + "alerts"
"""stream: the alert log (id, watch, url, title, claims as JSON), capped near 10,000 entries."""


def alert(alert_id: str) -> str:
    """string: the alert as JSON, kept 30 days: deliveries and resends are rebuilt from it."""
    return f"{PREFIX}alert:{alert_id}"


def delivery(alert_id: str) -> str:
    """hash: sink name -> "sent" | "failed: {error kind}"."""
    return f"{PREFIX}delivery:{alert_id}"


DEAD = PREFIX + "dead"
"""list: JSON deliveries that failed for good (``claimwatch alerts retry`` resends them)."""


def digest_state(sink: str, watch: str, part: str) -> str:
    """A digest sink's state for one watch (``digests``): ``buffer`` (hash: alert id -> the alert as JSON,
    the alerts awaiting the next digest), ``claims`` (string: how many claims they hold), ``period``
    (string: the last period boundary a poller handled, unix s), ``since`` (string: the end of the last
    digest formed, unix s)."""
    return f"{PREFIX}digest:{sink}:{watch}:{part}"


def digest_batch(digest_id: str) -> str:
    """hash: a formed digest's alerts (alert id -> JSON), from the flush until its delivery is enqueued."""
    return f"{PREFIX}digest:batch:{digest_id}"


DIGESTS_PENDING = PREFIX + "digests:pending"
"""hash: digest id -> JSON {sink, watch, since, until} of each formed digest not yet enqueued."""


def digest_lease(digest_id: str) -> str:
    """string: the poller enqueueing a formed digest (SET NX PX): one enqueue at a time."""
    return f"{PREFIX}digest:lease:{digest_id}"


DIGEST_LEASES = PREFIX + "digest:lease:*"
"""Pattern of every digest lease."""


def rate(target: str) -> str:
    """string: a chat target's next free send slot (unix ms). ``target``: its kind and a hash of its URL/chat."""
    return f"{PREFIX}rate:{target}"


def rate_block(target: str) -> str:
    """string: the target said 429 "retry after": no send to it before this (unix ms)."""
    return f"{PREFIX}rate:{target}:block"


# ---------------------------------------------------------------------- metrics

STATS = PREFIX + "stats"
"""hash: counters (polls, 304s, errors by kind, articles by outcome, alerts by sink)."""

LATENCY = PREFIX + "latency"
"""hash: per stage, "{stage}:sum" (seconds), "{stage}:count" and "{stage}:le:{bound}" histogram buckets."""


def heartbeat(role: str, ident: str) -> str:
    """string: the time of a process's last beat; expires when it stops beating."""
    return f"{PREFIX}heartbeat:{role}:{ident}"


def heartbeats(role: str) -> str:
    """Pattern of every heartbeat of ``role``."""
    return heartbeat(role, "*")
