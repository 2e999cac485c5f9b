"""The configured alert channels: one sink per enabled ``[[alerts]]`` entry, named ``"{index}:{type}"``.

The name is the sink's identity in Redis (delivery status per alert, counters, dead letters), so it
stays the same while the config file keeps the entry at the same index.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from monitor.errors import ConfigError
from monitor.settings import AlertSettings, Settings
from workers.sinks.base import Sink, post
from workers.sinks.console import ConsoleSink
from workers.sinks.webhook import WebhookSink

__all__ = ["Sink", "build_sinks", "sinks_for", "post"]


def _webhook(name: str, alert: AlertSettings, settings: Settings, stream: TextIO | None) -> Sink:
    if not alert.url:
        raise ConfigError(f"alerts[{name.partition(':')[0]}].url: required for a webhook")
    return WebhookSink(name, alert.url, net=settings.network, secret=alert.secret, timeout=alert.timeout)


def _console(name: str, alert: AlertSettings, settings: Settings, stream: TextIO | None) -> Sink:
    return ConsoleSink(name, stream)


_FACTORIES: dict[str, Callable[[str, AlertSettings, Settings, TextIO | None], Sink]] = {
    "webhook": _webhook,
    "console": _console,
}


def build_sinks(settings: Settings, *, stream: TextIO | None = None) -> list[Sink]:
    """One sink per enabled ``settings.alerts[i]``; ``stream`` is where console sinks write."""
    sinks: list[Sink] = []
    for i, alert in enumerate(settings.alerts):
        factory = _FACTORIES.get(alert.type)
        if factory is None:
            raise ConfigError(f"alerts[{i}].type: unknown sink type {alert.type!r}")
        if alert.enabled:
            sinks.append(factory(f"{i}:{alert.type}", alert, settings, stream))
    return sinks


def _index(sink: Sink) -> int:
    index, _, _ = sink.name.partition(":")
    return int(index)


def sinks_for(sinks: list[Sink], watch: str, settings: Settings) -> list[Sink]:
    """The sinks that take ``watch``'s alerts: those whose ``[[alerts]] watches`` is unset or names it."""
    out = []
    for sink in sinks:
        i = _index(sink)
        wanted = settings.alerts[i].watches if i < len(settings.alerts) else None
        if wanted is None or watch in wanted:
            out.append(sink)
    return out
