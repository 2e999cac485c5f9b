"""``[[feeds]]``: one feed per URL; the same URL listed for two watches is polled once for both."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from monitor.settings.base import Strict, http_url
from monitor.telegram import channel as tg_channel


class FeedSettings(Strict):
    """One ``[[feeds]]`` entry: an RSS/Atom feed (``url``), or a public Telegram channel
    (``type = "telegram"``, ``channel = "name"`` or ``url =`` its preview page ``<base>/s/<name>``)."""

    url: str
    type: Literal["rss", "telegram"] = "rss"
    channel: str | None = None  # telegram: the channel's public name (filled in from ``url``)
    name: str = ""
    category: str = ""  # a reader's folder (OPML import/export keeps it)
    interval: float | None = Field(None, gt=0)
    watches: list[str] | None = None

    _url = field_validator("url")(classmethod(lambda cls, v: http_url(v)))

    @model_validator(mode="before")
    @classmethod
    def _telegram(cls, data: Any) -> Any:
        return tg_channel.feed_fields(data) if isinstance(data, dict) else data


def merge_feeds(feeds: Sequence[FeedSettings], default_interval: float) -> list[FeedSettings]:
    """One feed per URL, in first-listed order. A URL listed again (for another watch) is polled once
    for both: watches are the union (every watch if either says so), names joined with " / ", the
    interval the shorter (the service's ``poll_interval`` standing in for one not set)."""
    by_url: dict[str, FeedSettings] = {}
    for feed in feeds:
        first = by_url.get(feed.url)
        if first is None:
            by_url[feed.url] = feed
            continue
        watches = None if first.watches is None or feed.watches is None else [
            *first.watches, *(w for w in feed.watches if w not in first.watches)]
        names = first.name.split(" / ") if first.name else []
        if feed.name and feed.name not in names:
            names.append(feed.name)
        interval = None if first.interval is None and feed.interval is None else min(
            first.interval or default_interval, feed.interval or default_interval)
        by_url[feed.url] = first.model_copy(
            update={"watches": watches, "interval": interval, "name": " / ".join(names)})
    return list(by_url.values())
