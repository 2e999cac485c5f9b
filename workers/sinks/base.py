"""What every sink is, how it is registered, and the one POST they share.

A sink renders an alert into its channel's payload (a pure function, golden-file tested) and sends
it. A sink module imports only ``monitor.models``, ``monitor.errors`` and this module; this module
alone reaches ``monitor.http``. Adding a channel is one new module here that defines its class with
``@register``, one import line in ``workers/sinks/__init__.py`` and its ``type`` in the settings'
``[[alerts]]`` (``monitor.settings.AlertSettings``).

``post()`` is ``monitor.http.post``: no redirects, and statuses and transport failures read through
the service's one table (``monitor.http.outcomes``): 2xx delivered; 429 ``http_429`` with
``retry_after`` from ``Retry-After``, else the JSON body's (Discord, Telegram); 503 ``http_503``;
other 5xx and 408 ``http_5xx``; 404/410 ``http_404``/``http_410``; other 3xx ``http_3xx``; other
4xx ``http_4xx``; ``timeout``, ``dns``, ``tls``, ``network``, ``forbidden_address``. The client
(``monitor.http.make_client``) refuses private targets at connect time.

Webhook URLs are secrets (Slack, Discord and Telegram put the token in them): no message raised or
logged here contains a URL, an address, a header value or a response body; messages name the sink
by its label (``"webhook sink 0"``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TextIO, TypeVar, runtime_checkable

import httpx

from monitor import http
from monitor.models import Message


@runtime_checkable
class Sink(Protocol):
    name: str  # unique per configured sink: f"{index}:{type}", e.g. "0:webhook"
    watches: tuple[str, ...] | None  # the watches whose alerts it takes; None: every watch

    def render(self, alert: Message) -> Any:
        """The channel's payload for ``alert``: pure, no I/O."""
        ...

    def send(self, alert: Message, client: httpx.Client) -> None:
        """Deliver ``alert``; raises ``TransientError`` / ``PermanentError``."""
        ...


class Options(Protocol):
    """One ``[[alerts]]`` entry as a sink is built from it (``monitor.settings.AlertSettings``)."""

    @property
    def url(self) -> str | None: ...
    @property
    def secret(self) -> str | None: ...
    @property
    def token(self) -> str | None: ...
    @property
    def chat_id(self) -> str | int | None: ...
    @property
    def api_url(self) -> str: ...
    @property
    def timeout(self) -> float: ...
    @property
    def messages_per_second(self) -> float: ...
    @property
    def watches(self) -> Sequence[str] | None: ...


Factory = Callable[[str, Options, TextIO | None], Sink]
SINK_TYPES: dict[str, Factory] = {}  # "slack" -> how to build one; filled by @register
_C = TypeVar("_C")


def register(cls: _C) -> _C:
    """Class decorator: ``cls.from_options`` builds the sinks of ``[[alerts]] type = cls.kind``."""
    SINK_TYPES[cls.kind] = cls.from_options  # type: ignore[attr-defined]
    return cls


def watches_of(options: Options) -> tuple[str, ...] | None:
    return tuple(options.watches) if options.watches is not None else None


def label_of(name: str) -> str:
    """``"0:webhook"`` -> ``"webhook sink 0"``: how messages name a sink without its URL."""
    index, _, kind = name.partition(":")
    return f"{kind or 'sink'} sink {index}"


def post(client: httpx.Client, url: str, body: bytes, headers: Mapping[str, str], *, timeout: float,
         label: str = "sink") -> httpx.Response:
    """POST ``body`` to ``url``; the response on 2xx, else the mapped error (see the module doc)."""
    return http.post(client, url, body, headers, timeout=timeout, where=label)


def rate_of(sink: object) -> tuple[str | None, float]:
    """(rate key, seconds between two messages) of a sink; (None, 0) when it has no limit."""
    key = getattr(sink, "rate_key", None)
    interval = float(getattr(sink, "min_interval", 0.0) or 0.0)
    return (key, interval) if key and interval > 0 else (None, 0.0)


def target_key(kind: str, *parts: str) -> str:
    """A stable, non-reversible id of a sink's target (its URL, its bot token and chat), for Redis keys."""
    h = hashlib.blake2b(digest_size=10)
    for p in (kind, *parts):
        h.update(p.encode("utf-8", "surrogatepass") + b"\0")
    return f"{kind}:{h.hexdigest()}"


class JsonSink:
    """A chat sink that POSTs one JSON payload to one secret URL: the shared half of Slack, Mattermost,
    Discord, Teams and Telegram. Subclasses set ``kind`` and ``render()``; ``rate`` is messages per
    second to the target (0: no limit). Neither repr nor any message shows the URL."""

    kind = "json"

    def __init__(self, name: str, url: str, *, timeout: float = 10.0, rate: float = 0.0,
                 watches: tuple[str, ...] | None = None):
        self.name, self.watches = name, watches
        self._url = url
        self._timeout = timeout
        self.rate_key = target_key(self.kind, url)
        self.min_interval = 1.0 / rate if rate > 0 else 0.0

    @classmethod
    def from_options(cls, name: str, options: Options, stream: TextIO | None = None) -> Sink:
        return cls(name, options.url or "", timeout=options.timeout, rate=options.messages_per_second,
                   watches=watches_of(options))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    @property
    def label(self) -> str:
        return label_of(self.name)

    def render(self, alert: Message) -> Any:
        raise NotImplementedError

    def send(self, alert: Message, client: httpx.Client) -> None:
        body = json.dumps(self.render(alert), ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        post(client, self._url, body, headers, timeout=self._timeout, label=self.label)
