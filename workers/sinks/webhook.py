"""The generic JSON webhook (shared/acceptance/CONTRACT.md, "The alert").

One POST per alert; the body is ``json.dumps(alert.payload(), ensure_ascii=False)`` in UTF-8, with

    Content-Type: application/json
    User-Agent: <network.user_agent>     (the client's)
    X-Claimwatch-Id: <alert.id>          (stable across retries: receivers can de-duplicate on it)
    X-Claimwatch-Event: <alert.type>
    X-Claimwatch-Timestamp: <unix seconds when this attempt was sent>
    X-Claimwatch-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>   (only when a secret is set)
    X-Claimwatch-Signature-Timestamped: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>
                                                                       (only when a secret is set)

A receiver verifies a signature on the raw bytes it received, before parsing them. The first
signature is the contract's (shared/acceptance/CONTRACT.md) and proves who sent the body; the
timestamped one also proves when, so a receiver that rejects timestamps older than a few minutes
cannot be fed a recorded request again (a replay). Each retry is signed afresh with its own time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any, TextIO

import httpx

from monitor.errors import ConfigError
from monitor.models import Message
from workers.sinks.base import Options, Sink, label_of, post, register, watches_of

SIGNATURE_HEADER = "X-Claimwatch-Signature"
TIMESTAMP_HEADER = "X-Claimwatch-Timestamp"
TIMESTAMPED_SIGNATURE_HEADER = "X-Claimwatch-Signature-Timestamped"


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``"sha256=" + hex HMAC-SHA256(secret, body)``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def sign_timestamped(secret: str, timestamp: int, body: bytes) -> str:
    """``"sha256=" + hex HMAC-SHA256(secret, b"<timestamp>." + body)``: covers the time of sending too."""
    return sign(secret, str(int(timestamp)).encode("ascii") + b"." + body)


def encode(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed)."""
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def headers(
    alert: Message, body: bytes, *, secret: str | None, user_agent: str | None = None, timestamp: int | None = None
) -> dict[str, str]:
    """The request's headers; ``timestamp`` (unix seconds) defaults to now; no ``user_agent``: the
    client's own (``network.user_agent``)."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    out = {"Content-Type": "application/json"} | ({"User-Agent": user_agent} if user_agent else {})
    out |= {
        "X-Claimwatch-Id": alert.id,
        "X-Claimwatch-Event": alert.type,
        TIMESTAMP_HEADER: str(ts),
    }
    if secret:
        out[SIGNATURE_HEADER] = sign(secret, body)
        out[TIMESTAMPED_SIGNATURE_HEADER] = sign_timestamped(secret, ts, body)
    return out


@register
class WebhookSink:
    """Signed JSON POSTs to one URL. Its repr never shows the URL or the secret."""

    kind = "webhook"

    def __init__(self, name: str, url: str, *, secret: str | None = None, timeout: float = 10.0,
                 watches: tuple[str, ...] | None = None):
        self.name, self.watches = name, watches
        self._url = url
        self._secret = secret or None
        self._timeout = timeout

    @classmethod
    def from_options(cls, name: str, options: Options, stream: TextIO | None = None) -> Sink:
        if not options.url:
            raise ConfigError(f"alerts[{name.partition(':')[0]}].url: required for a webhook")
        return cls(name, options.url, secret=options.secret, timeout=options.timeout, watches=watches_of(options))

    def __repr__(self) -> str:
        return f"WebhookSink(name={self.name!r}, signed={self._secret is not None})"

    @property
    def label(self) -> str:
        return label_of(self.name)

    def render(self, alert: Message) -> dict[str, Any]:
        return alert.payload()  # a digest's: {"type": "digest", ..., "days": [...]}

    def send(self, alert: Message, client: httpx.Client) -> None:
        body = encode(self.render(alert))
        post(client, self._url, body, headers(alert, body, secret=self._secret), timeout=self._timeout,
             label=self.label)
