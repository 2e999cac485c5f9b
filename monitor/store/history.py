"""Each watch's articles and claims per day, and its articles by outcome: what the desk's summary and
chart show (``cw:w:{watch}:daily``, ``cw:w:{watch}:outcomes``). Days are UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import redis

from monitor.store import keys
from monitor.store.values import as_str_dict


def today() -> date:
    return datetime.now(UTC).date()


class History:
    """``cw:w:{watch}:daily`` and ``:outcomes``."""

    def __init__(self, client: redis.Redis):
        self.client = client

    def count_article(self, watch: str, outcome: str, claims: int = 0, day: date | None = None) -> None:
        """One article judged for ``watch``; ``claims`` new claims it alerted."""
        d = (day or today()).isoformat()
        pipe = self.client.pipeline(transaction=False)
        pipe.hincrby(keys.outcomes(watch), outcome, 1)
        if outcome != "no_match":  # read for the watch (the keywords matched its text)
            pipe.hincrby(keys.daily(watch), f"{d}|articles", 1)
        if claims:
            pipe.hincrby(keys.daily(watch), f"{d}|claims", claims)
        pipe.execute()

    def outcomes(self, watch: str) -> dict[str, int]:
        return {k: int(v) for k, v in as_str_dict(self.client.hgetall(keys.outcomes(watch))).items()}

    def days(self, watch: str, n: int = 30, end: date | None = None) -> list[dict[str, object]]:
        """The last ``n`` days up to ``end`` (today), oldest first: {"day", "claims", "articles"}."""
        end = end or today()
        days = [(end - timedelta(days=i)).isoformat() for i in range(n - 1, -1, -1)]
        fields = [f"{d}|{what}" for d in days for what in ("claims", "articles")]
        values = self.client.hmget(keys.daily(watch), fields)
        return [{"day": d, "claims": int(values[2 * i] or 0), "articles": int(values[2 * i + 1] or 0)}
                for i, d in enumerate(days)]
