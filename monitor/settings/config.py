"""``Settings``: the whole configuration, its tables and the checks across them (names that refer
to watches exist; two watches never share a name; one feed per URL)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field, ValidationInfo, field_validator, model_validator

from monitor.errors import ConfigError
from monitor.settings.alerts import AlertSettings
from monitor.settings.base import Strict
from monitor.settings.feeds import FeedSettings, merge_feeds
from monitor.settings.service import NetworkSettings, ServiceSettings
from monitor.settings.watches import WatchSettings


class Settings(Strict):
    service: ServiceSettings = ServiceSettings()
    network: NetworkSettings = NetworkSettings()
    watches: list[WatchSettings] = Field(min_length=1)
    feeds: list[FeedSettings] = []
    alerts: list[AlertSettings] = []

    @field_validator("feeds")
    @classmethod
    def _one_feed_per_url(cls, feeds: list[FeedSettings], info: ValidationInfo) -> list[FeedSettings]:
        if "watches" in info.data:  # else the watches' own error is reported
            _check_watch_names("feeds", feeds, [w.name for w in info.data["watches"]])
        service = info.data.get("service") or ServiceSettings()
        return merge_feeds(feeds, service.poll_interval)

    @model_validator(mode="after")
    def _references(self) -> Settings:
        names = [w.name for w in self.watches]
        if len(set(names)) != len(names):
            raise ValueError("watches: two watches share a name")
        _check_watch_names("alerts", self.alerts, names)
        return self

    def watch(self, name: str) -> WatchSettings:
        for w in self.watches:
            if w.name == name:
                return w
        raise ConfigError(f"watches: no watch named {name!r}")


def _check_watch_names(kind: str, items: Sequence[FeedSettings | AlertSettings], names: list[str]) -> None:
    for i, item in enumerate(items):
        for w in item.watches or ():
            if w not in names:
                raise ValueError(f"{kind}[{i}].watches: no watch named {w!r}")
