"""The configured alert channels: one sink per enabled ``[[alerts]]`` entry, named ``"{index}:{type}"``.

The name is the sink's identity in Redis (delivery status per alert, counters, dead letters), so it
stays the same while the config file keeps the entry at the same index.

A sink module registers its class (``base.register``, into ``base.SINK_TYPES``); importing it here
is all this file knows of it: a new channel is its module, one import line here and its ``type`` in
``monitor.settings.AlertSettings``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol, TextIO

import httpx

from monitor.errors import ClaimwatchError, ConfigError
from monitor.models import Alert, Claim, Digest, Known, Message, items_of
from workers.sinks import apprise_sink, console, discord, slack, teams, telegram, webhook  # noqa: F401  (each registers)
from workers.sinks.base import SINK_TYPES, Options, Sink, post

__all__ = ["Sink", "build_sinks", "sinks_for", "post", "matches", "sample_alert", "sample_digest", "send_sample"]


class AlertEntry(Options, Protocol):
    """An ``[[alerts]]`` entry as a whole (``monitor.settings.AlertSettings``)."""

    @property
    def type(self) -> str: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def mode(self) -> str: ...
    @property
    def timezone(self) -> str: ...


def build_sinks(alerts: Sequence[AlertEntry], *, stream: TextIO | None = None) -> list[Sink]:
    """One sink per enabled ``alerts[i]``; ``stream`` is where console sinks write."""
    sinks: list[Sink] = []
    for i, alert in enumerate(alerts):
        factory = SINK_TYPES.get(alert.type)
        if factory is None:
            raise ConfigError(f"alerts[{i}].type: unknown sink type {alert.type!r}")
        if alert.enabled:
            sinks.append(factory(f"{i}:{alert.type}", alert, stream))
    return sinks


def sinks_for(sinks: list[Sink], watch: str) -> list[Sink]:
    """The sinks that take ``watch``'s alerts: those whose ``[[alerts]] watches`` is unset or names it."""
    return [s for s in sinks if s.watches is None or watch in s.watches]


def matches(sink_name: str, selector: str | None) -> bool:
    """Does ``selector`` pick the sink ``"{index}:{type}"``? It may be the whole name, the index or the type."""
    if not selector:
        return True
    index, _, kind = sink_name.partition(":")
    return selector in (sink_name, index, kind)


def sample_alert(watch: str) -> Alert:
    """The alert `claimwatch test-alert` sends: clearly a test, with a stable-looking but unique id."""
    now = datetime.now(UTC)
    return Alert(
        id=f"test-{now.strftime('%Y%m%dT%H%M%S')}",
        type="new_claims",
        watch=watch,
        article_url="https://github.com/claimwatch/claimwatch#chat-alerts",
        article_title="claimwatch test alert: this sink is configured correctly",
        article_source="claimwatch",
        article_published=now.isoformat(timespec="seconds"),
        claims=(
            Claim("This is a test message from `claimwatch test-alert`; no article triggered it.",
                  "claimwatch", Known("An earlier claim the watch knew.", 0.42)),
            Claim("Markup from articles is shown as text: <b>not bold</b>, @everyone, <!channel>.", None, None),
        ),
        detected_at=now.isoformat(timespec="seconds"),
    )


def sample_digest(alert: Alert, timezone: str = "UTC") -> Digest:
    """The digest `claimwatch test-alert` sends to a digest sink: the sample alert's claims."""
    return Digest(f"test-digest-{alert.id.removeprefix('test-')}", alert.watch, None, alert.detected_at,
                  tuple(items_of(alert)), timezone=timezone)


def send_sample(alerts: Sequence[AlertEntry], default_watch: str, selector: str | None, client: httpx.Client,
                out: TextIO) -> int:
    """`claimwatch test-alert [SINK]`: send ``sample_alert`` to each configured sink (or the ones
    ``selector`` picks), directly (no queue, no rate limit, no dead letter); report each outcome on
    ``out``. Returns the exit code: 0 when every send succeeded."""
    sinks = [s for s in build_sinks(alerts, stream=out) if matches(s.name, selector)]
    if not sinks:
        raise ConfigError(f"alerts: no enabled sink matches {selector!r}" if selector else "alerts: no enabled sink")
    failed = 0
    for sink in sinks:
        alert: Message = sample_alert((sink.watches or (default_watch,))[0])
        entry = alerts[int(sink.name.partition(":")[0])]
        if entry.mode == "digest":
            alert = sample_digest(alert, entry.timezone)
        try:
            sink.send(alert, client)
        except ClaimwatchError as e:  # our messages never quote URLs or tokens
            failed += 1
            print(f"{sink.name}: failed: {e.kind}: {e}", file=out)
            continue
        print(f"{sink.name}: sent (alert {alert.id})", file=out)
    return 1 if failed else 0
