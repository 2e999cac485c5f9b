"""A Telegram channel's name and the URL of its public web preview; no I/O.

A feed names its channel (``channel = "name"``) or gives the preview page itself (``url =
"https://t.me/s/name"``, or ``<base>/s/name`` on a mirror or a test server serving the same markup).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

PREVIEW_BASE = "https://t.me"
# Public usernames: 5-32 characters, letters, digits and underscores, starting with a letter
# (a few old ones are 4 long).
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
_PATH = re.compile(r"^(?P<prefix>(?:/[^/]+)*)/s/(?P<name>[^/]+)/?$")


def name_of(channel: str) -> str:
    """``@name``, ``name`` or ``t.me/name`` -> ``name``; ValueError when it is not a public channel's name."""
    raw = channel.strip()
    for prefix in ("https://", "http://"):
        raw = raw.removeprefix(prefix)
    raw = raw.removeprefix("t.me/").removeprefix("telegram.me/").removeprefix("s/").lstrip("@").rstrip("/")
    if not NAME.match(raw):
        raise ValueError(f"{channel!r} is not a public channel's name (5-32 letters, digits or _)")
    return raw


def preview_url(name: str, base: str = PREVIEW_BASE) -> str:
    return f"{base.rstrip('/')}/s/{name}"


def channel_of(url: str) -> str | None:
    """The channel whose preview page ``url`` is (``<base>/s/<name>``), or None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    m = _PATH.match(parts.path)
    return m["name"] if m and NAME.match(m["name"]) and not parts.query else None


def page_url(url: str, before: int | None = None) -> str:
    """The preview page, or the page of the posts older than ``before``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=f"before={before}" if before else "", fragment=""))


def still_preview(asked: str, final: str) -> bool:
    """Did the request stay on the preview page? t.me sends a channel without a public preview
    (preview off, private, restricted) from ``/s/name`` to ``/name``."""
    a, f = urlsplit(asked), urlsplit(final)
    return (a.hostname, channel_of(page_url(asked))) == (f.hostname, channel_of(page_url(final)))


def feed_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A ``[[feeds]]`` table with a Telegram channel's ``url`` and ``channel`` both filled in from the
    one it gives; ValueError (the settings name the key) when it gives neither, both, or a bad one."""
    if data.get("type", "rss") != "telegram":
        if data.get("channel") is not None:
            raise ValueError('channel: only for type = "telegram"')
        return data
    channel, url = data.get("channel"), data.get("url")
    if (channel is None) == (url is None):
        raise ValueError('a telegram feed names its channel = "name", or its url = "https://t.me/s/name" '
                         "(one of the two)")
    if url is None:
        name = name_of(str(channel))
        return {**data, "channel": name, "url": preview_url(name)}
    name = channel_of(str(url))
    if name is None:
        raise ValueError(f"url: {url!r} is not a Telegram preview page (https://t.me/s/NAME, or BASE/s/NAME)")
    return {**data, "channel": name}
