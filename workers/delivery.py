"""Deliver one alert (or digest) to one sink: at least once, never twice once it is known to be sent.

The delivery job (``workers.jobs.deliver_alert``) first asks ``slot_wait()`` whether the sink's rate
limit (shared by every worker through Redis) lets it send now; if not it re-enqueues itself for its
reserved slot instead of sleeping. Then it calls ``deliver()``; on ``TransientError`` it
re-enqueues itself after ``retry_delay()`` until ``MAX_ATTEMPTS``, then calls ``give_up()``; on
``PermanentError`` it gives up at once. The alert id is stable across retries, so a receiver can
drop the rare duplicate (a POST that arrived but whose response was lost, or a worker killed between
the send and recording it) on ``X-Claimwatch-Id``. Chat services have no such key: there the rare
duplicate shows as a second message (README, "Chat alerts").
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from monitor.errors import ClaimwatchError, PermanentError, TransientError
from monitor.models import Message
from monitor.store import Store
from workers.sinks.base import Sink, rate_of

log = logging.getLogger(__name__)

MAX_ATTEMPTS: int = 8
MAX_RETRY_AFTER: float = 3600.0  # a server's Retry-After is honoured up to an hour, even above the cap
_MESSAGE_MAX = 200


def deliver(alert: Message, sink: Sink, store: Store, client: httpx.Client) -> bool:
    """Send ``alert`` through ``sink`` unless it was already sent; True when this call sent it.

    Errors (``TransientError``, ``PermanentError``) are counted and propagate to the caller.
    """
    if store.deliveries.sent(alert.id, sink.name):
        return False
    try:
        sink.send(alert, client)
    except (TransientError, PermanentError) as e:
        store.metrics.count(f"alerts_failed:{sink.name}:{e.kind}")
        key, _ = rate_of(sink)
        if key and isinstance(e, TransientError) and e.kind == "http_429" and e.retry_after:
            store.rates.block(key, min(e.retry_after, MAX_RETRY_AFTER))  # every worker waits, not just this one
        raise
    store.deliveries.set_status(alert.id, sink.name, "sent")
    store.metrics.count(f"alerts_sent:{sink.name}")
    return True


def slot_wait(alert: Message, sink: Sink, store: Store, *, reserved: bool = False) -> float:
    """Seconds this delivery must wait for the sink's rate limit (0: send now). A positive answer
    reserves a slot: the caller re-enqueues itself for then with ``reserved=True``."""
    key, interval = rate_of(sink)
    if key is None or store.deliveries.sent(alert.id, sink.name):
        return 0.0
    return store.rates.slot(key, interval, reserved=reserved)


def retry_delay(
    attempt: int,
    error: TransientError,
    *,
    base: float = 1.0,
    cap: float = 300.0,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number ``attempt`` (0 = the first retry).

    Exponential (``base * 2**attempt``) with ±25 % jitter, at most ``cap``; never less than the
    server's ``retry_after`` (itself at most an hour).
    """
    exponent = min(max(attempt, 0), 63)  # 2**63 * base is far above any cap; avoids float overflow
    delay = min(cap, base * 2.0**exponent)
    delay = min(cap, delay * (0.75 + 0.5 * rng()))
    if error.retry_after is not None and error.retry_after > 0:
        delay = max(delay, min(error.retry_after, MAX_RETRY_AFTER))
    return delay


def _describe(error: Exception) -> tuple[str, str]:
    """(kind, short message). Only our own errors' messages are quoted: they never hold URLs."""
    if isinstance(error, ClaimwatchError):
        message = str(error)
        if len(message) > _MESSAGE_MAX:
            message = message[: _MESSAGE_MAX - 1] + "…"
        return error.kind, message
    return "error", type(error).__name__


def give_up(alert: Message, sink: Sink, store: Store, error: Exception, attempts: int) -> None:
    """Record that ``alert`` will not reach ``sink``: its delivery status and a dead letter."""
    kind, message = _describe(error)
    store.deliveries.set_status(alert.id, sink.name, f"failed: {kind}")
    store.deliveries.dead_letter(
        {
            "alert": alert.to_dict(),
            "sink": sink.name,
            "error": f"{kind}: {message}",
            "attempts": attempts,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    store.metrics.count(f"alerts_dead:{sink.name}")
    log.warning(
        "alert %s to sink %s: giving up after %d attempt(s): %s: %s", alert.id, sink.name, attempts, kind, message
    )
