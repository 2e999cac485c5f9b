"""The configured alert channels: one sink per enabled ``[[alerts]]`` entry, named ``"{index}:{type}"``.

The name is the sink's identity in Redis (delivery status per alert, counters, dead letters), so it
stays the same while the config file keeps the entry at the same index.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

import httpx

from monitor.errors import ClaimwatchError, ConfigError
from monitor.models import Alert, Claim, Known
from monitor.settings import AlertSettings, Settings
from workers.sinks.base import Sink, post
from workers.sinks.console import ConsoleSink
from workers.sinks.discord import DiscordSink
from workers.sinks.slack import MattermostSink, SlackSink
from workers.sinks.teams import TeamsSink
from workers.sinks.telegram import TelegramSink
from workers.sinks.webhook import WebhookSink

__all__ = ["Sink", "build_sinks", "sinks_for", "post", "matches", "sample_alert", "send_sample"]


def _webhook(name: str, alert: AlertSettings, settings: Settings, stream: TextIO | None) -> Sink:
    if not alert.url:
        raise ConfigError(f"alerts[{name.partition(':')[0]}].url: required for a webhook")
    return WebhookSink(name, alert.url, net=settings.network, secret=alert.secret, timeout=alert.timeout)


def _console(name: str, alert: AlertSettings, settings: Settings, stream: TextIO | None) -> Sink:
    return ConsoleSink(name, stream)


def _chat(cls: type[SlackSink | MattermostSink | DiscordSink | TeamsSink]):
    def make(name: str, alert: AlertSettings, settings: Settings, stream: TextIO | None) -> Sink:
        return cls(name, alert.url or "", net=settings.network, timeout=alert.timeout, rate=alert.messages_per_second)

    return make


def _telegram(name: str, alert: AlertSettings, settings: Settings, stream: TextIO | None) -> Sink:
    return TelegramSink(name, alert.token or "", str(alert.chat_id or ""), net=settings.network,
                        api_url=alert.api_url, timeout=alert.timeout, rate=alert.messages_per_second)


_FACTORIES: dict[str, Callable[[str, AlertSettings, Settings, TextIO | None], Sink]] = {
    "webhook": _webhook,
    "console": _console,
    "slack": _chat(SlackSink),
    "mattermost": _chat(MattermostSink),
    "discord": _chat(DiscordSink),
    "teams": _chat(TeamsSink),
    "telegram": _telegram,
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


def send_sample(settings: Settings, selector: str | None, client: httpx.Client, out: TextIO) -> int:
    """`claimwatch test-alert [SINK]`: send ``sample_alert`` to each configured sink (or the ones
    ``selector`` picks), directly (no queue, no rate limit, no dead letter); report each outcome on
    ``out``. Returns the exit code: 0 when every send succeeded."""
    sinks = [s for s in build_sinks(settings, stream=out) if matches(s.name, selector)]
    if not sinks:
        raise ConfigError(f"alerts: no enabled sink matches {selector!r}" if selector else "alerts: no enabled sink")
    failed = 0
    for sink in sinks:
        watches = settings.alerts[int(sink.name.partition(":")[0])].watches
        alert = sample_alert((watches or [settings.watches[0].name])[0])
        try:
            sink.send(alert, client)
        except ClaimwatchError as e:  # our messages never quote URLs or tokens
            failed += 1
            print(f"{sink.name}: failed: {e.kind}: {e}", file=out)
            continue
        print(f"{sink.name}: sent (alert {alert.id})", file=out)
    return 1 if failed else 0
