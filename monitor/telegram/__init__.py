"""Public Telegram channels read through their web preview (``https://t.me/s/<channel>``): no
account, no API key.

- ``channel``: a channel's name and its preview page's URL (settings use it; no I/O, no parser);
- ``markup``: a preview page -> its posts (lxml on the bytes; pure);
- ``posts``: posts -> feed items (forwards as their original, edits as a new version; pure);
- ``reader``: the poller's read of a channel: the page, older pages (``?before=<id>``) when more
  was posted than one page shows, and a clear failure when the channel has no public preview.
"""
