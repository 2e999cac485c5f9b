"""What every sink is, and the one POST they share with its status mapping.

A sink renders an alert into its channel's payload (a pure function, golden-file tested) and sends
it. ``post()`` maps HTTP outcomes onto the error tree so the delivery job knows what to retry:

- 2xx: delivered;
- 429: ``TransientError(kind="http_429")`` with ``retry_after`` from the ``Retry-After`` header, else the
  JSON body's ``retry_after`` (Discord) or ``parameters.retry_after`` (Telegram);
- 5xx and 408: ``TransientError(kind="http_5xx")``;
- 3xx: ``PermanentError(kind="http_redirect")`` (redirects are not followed: the target was checked
  against the SSRF guard, the redirect's target was not);
- other 4xx: ``PermanentError(kind="http_4xx")``;
- timeouts: ``TransientError(kind="timeout")``; other transport errors: ``TransientError(kind="network")``.

Webhook URLs are secrets (Slack, Discord and Telegram put the token in them): no message raised or
logged here contains a URL, a header value or a response body; callers pass a ``label`` such as
``"webhook sink 0"`` to say which sink failed.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, runtime_checkable

import httpx

from monitor.errors import ClaimwatchError, PermanentError, TransientError
from monitor.http import guard
from monitor.models import Alert
from monitor.settings import NetworkSettings


@runtime_checkable
class Sink(Protocol):
    name: str  # unique per configured sink: f"{index}:{type}", e.g. "0:webhook"

    def render(self, alert: Alert) -> Any:
        """The channel's payload for ``alert``: pure, no I/O."""
        ...

    def send(self, alert: Alert, client: httpx.Client) -> None:
        """Deliver ``alert``; raises ``TransientError`` / ``PermanentError``."""
        ...


def label_of(name: str) -> str:
    """``"0:webhook"`` -> ``"webhook sink 0"``: how messages name a sink without its URL."""
    index, _, kind = name.partition(":")
    return f"{kind or 'sink'} sink {index}"


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """A ``Retry-After`` header (seconds, or an HTTP date) -> seconds from now, or None."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def _body_retry_after(response: httpx.Response) -> float | None:
    try:
        data = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    value = data.get("retry_after")
    if value is None and isinstance(data.get("parameters"), dict):
        value = data["parameters"].get("retry_after")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return max(0.0, float(value)) if math.isfinite(value) else None


def check_status(response: httpx.Response, label: str) -> httpx.Response:
    """Raise the error a response's status means; return it when it is a success."""
    status = response.status_code
    if 200 <= status < 300:
        return response
    message = f"{label}: HTTP {status}"
    if status == 429:
        retry = parse_retry_after(response.headers.get("retry-after"))
        if retry is None:
            retry = _body_retry_after(response)
        raise TransientError(message, kind="http_429", retry_after=retry)
    if status >= 500 or status == 408:
        retry = parse_retry_after(response.headers.get("retry-after"))  # 503s may say when to come back
        raise TransientError(message, kind="http_5xx", retry_after=retry)
    if 300 <= status < 400:
        raise PermanentError(f"{message} (redirects are not followed)", kind="http_redirect")
    if 400 <= status < 500:
        raise PermanentError(message, kind="http_4xx")
    raise PermanentError(message, kind="http_status")


def post(
    client: httpx.Client,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float,
    label: str = "sink",
) -> httpx.Response:
    """POST ``body`` to ``url``; the response on 2xx, else the mapped error (see the module doc)."""
    try:
        response = client.post(url, content=body, headers=dict(headers), timeout=timeout, follow_redirects=False)
    except httpx.TimeoutException as e:
        raise TransientError(f"{label}: timed out ({type(e).__name__})", kind="timeout") from None
    except httpx.TransportError as e:  # connect errors, protocol errors, proxies...
        raise TransientError(f"{label}: network error ({type(e).__name__})", kind="network") from None
    except httpx.InvalidURL:
        raise PermanentError(f"{label}: invalid URL", kind="invalid_url") from None
    return check_status(response, label)


def sanitized(error: ClaimwatchError, label: str, what: str) -> ClaimwatchError:
    """A copy of ``error`` (same class and kind) whose message names ``label``, not the URL.

    For errors raised by code that may quote the URL (the SSRF guard, say).
    """
    message = f"{label}: {what} ({error.kind})"
    if isinstance(error, TransientError):
        return TransientError(message, kind=error.kind, retry_after=error.retry_after)
    try:
        return type(error)(message, kind=error.kind)
    except TypeError:
        return PermanentError(message, kind=error.kind)


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

    def __init__(self, name: str, url: str, *, net: NetworkSettings, timeout: float = 10.0, rate: float = 0.0):
        self.name = name
        self._url = url
        self._net = net
        self._timeout = timeout
        self.rate_key = target_key(self.kind, url)
        self.min_interval = 1.0 / rate if rate > 0 else 0.0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    @property
    def label(self) -> str:
        return label_of(self.name)

    def render(self, alert: Alert) -> Any:
        raise NotImplementedError

    def send(self, alert: Alert, client: httpx.Client) -> None:
        post_json(client, self._url, self.render(alert), net=self._net, timeout=self._timeout, label=self.label)


def post_json(
    client: httpx.Client, url: str, payload: Any, *, net: NetworkSettings, timeout: float, label: str
) -> httpx.Response:
    """``guard`` the URL (SSRF), then ``post`` ``payload`` as UTF-8 JSON; errors never quote the URL."""
    try:
        guard(url, net)
    except ClaimwatchError as e:  # the guard may quote the URL or its address: say neither
        raise sanitized(e, label, "target check failed") from None
    except OSError as e:  # a resolver error the guard let through
        raise TransientError(f"{label}: cannot resolve the target ({type(e).__name__})", kind="network") from None
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": net.user_agent}
    return post(client, url, body, headers, timeout=timeout, label=label)
