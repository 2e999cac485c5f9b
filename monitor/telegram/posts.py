"""Posts -> feed items: what the poller enqueues of a channel. Pure.

- A post's text is the whole article (``FeedItem.text``): no page is fetched for it. Its link
  preview (site, title, description) is part of it: it is what the post is about.
- Its URL is its permalink (``https://t.me/<channel>/<id>``), the link an alert carries.
- A forward keeps its origin (``origin``, named in the alert's source) and, when the origin is a
  public channel, its URL is the original post's permalink: the poller's seen check (by canonical
  URL, across feeds) then takes the original and its forwards as one entry, whichever is read first,
  and the alert links the original.
- An edited post is a new version: its GUID and URL carry a digest of its text
  (``#edited-<digest>``), so it is enqueued again, and the pipeline's near-duplicate path judges it
  against what the watch already knows: only what the edit adds can alert. Every later edit is
  another version; an unchanged page enqueues nothing.
"""

from __future__ import annotations

import re

from monitor.feeds import FeedItem, canonical_url
from monitor.store import digest
from monitor.telegram.markup import Post

_BARE_URL = re.compile(r"^\S+://\S+$")


def article_text(post: Post) -> str:
    """The post's lines (but those that are only a link it carries) and its link preview."""
    own = [line for line in post.text.split("\n") if line not in post.links and not _BARE_URL.match(line)]
    return "\n".join(x for x in ("\n".join(own), post.preview) if x)


def item(post: Post) -> FeedItem:
    text = article_text(post)
    guid = f"tg:{post.channel}/{post.id}"
    url = canonical_url(post.origin_url or post.permalink)
    if post.edited:
        version = f"#edited-{digest(text, 6)}"
        guid, url = guid + version, url + version
    return FeedItem(guid=guid, link=post.permalink, url=url, title="", summary=" ".join(text.split()),
                    published=post.published, author=None, text=text, origin=post.origin)


def items(posts: list[Post]) -> list[FeedItem]:
    return [item(p) for p in posts]
