"""``[[alerts]]``: where alerts go (webhook, console, Slack, Mattermost, Discord, Teams, Telegram,
Apprise), which keys each type needs, how fast each target may be sent to, and a digest sink's
schedule (``monitor.cadence``)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from monitor.cadence import Cadence, ScheduleError
from monitor.settings.base import Strict, http_url

TELEGRAM_API = "https://api.telegram.org"
_URL_SINKS = ("webhook", "slack", "mattermost", "discord", "teams", "apprise")
# Messages per second each type sends by default, per target (a webhook URL, a Telegram chat):
# Slack incoming webhooks ~1/s; Telegram 1/s per chat; Teams Workflows ~4/s; Discord 30/min per channel.
DEFAULT_RATES: dict[str, float] = {"slack": 1.0, "mattermost": 1.0, "discord": 0.5, "teams": 4.0, "telegram": 1.0}
_TELEGRAM_TOKEN = re.compile(r"^[0-9]+:[A-Za-z0-9_-]+$")
_TELEGRAM_CHAT = re.compile(r"^(-?[0-9]+|@[A-Za-z][A-Za-z0-9_]{3,})$")


class AlertSettings(Strict):
    """One ``[[alerts]]`` entry. An empty ``url`` (or Telegram ``token``/``chat_id``), as a
    ``"${VAR:-}"`` left unset gives, disables the entry; a key that is absent where the type needs
    it is an error."""

    type: Literal["webhook", "console", "slack", "mattermost", "discord", "teams", "telegram", "apprise"]
    url: str | None = Field(None, validate_default=True)
    secret: str | None = None
    token: str | None = Field(None, validate_default=True)
    chat_id: str | int | None = Field(None, validate_default=True)
    api_url: str = Field(TELEGRAM_API, validate_default=True)
    watches: list[str] | None = None
    timeout: float = Field(10.0, gt=0)
    rate: float | None = Field(None, ge=0, description="messages per second to this target; 0 = no limit")
    mode: Literal["each", "digest"] = Field("each", description="each: one message per alert; digest: one per period")
    every: str | None = Field(None, description="digest period, a duration: 1h, 15m, 1d")
    at: str | list[str] | None = Field(None, description="digest times: HH:MM, a list of them, or a cron expression")
    timezone: str = Field("UTC", description="the zone of `at` times and of a digest's days")
    min_claims: int = Field(1, ge=1, description="fewer claims: no message (a digest's wait for the next period)")

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("type")
        if kind in _URL_SINKS and kind != "webhook" and v is None:
            raise ValueError(f"required for a {kind} sink")
        if kind not in _URL_SINKS and v is not None:
            raise ValueError(f"not used by a {kind} sink")
        if kind == "apprise":  # Apprise URLs (json://, mailto://, tgram://...), one or more: Apprise checks them
            return v
        return http_url(v) if v else v

    @field_validator("token")
    @classmethod
    def _token(cls, v: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("type") == "telegram":
            if v is None:
                raise ValueError("required for a telegram sink")
            if v and not _TELEGRAM_TOKEN.match(v):
                raise ValueError("not a Telegram bot token (digits:letters, as @BotFather gives it)")
        elif v is not None:
            raise ValueError(f"not used by a {info.data.get('type')} sink")
        return v

    @field_validator("chat_id")
    @classmethod
    def _chat_id(cls, v: str | int | None, info: ValidationInfo) -> str | None:
        if info.data.get("type") == "telegram":
            if v is None:
                raise ValueError("required for a telegram sink")
            v = str(v)
            if v and not _TELEGRAM_CHAT.match(v):
                raise ValueError("not a Telegram chat id (a number, or @channelusername)")
            return v
        if v is not None:
            raise ValueError(f"not used by a {info.data.get('type')} sink")
        return None

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, v: str) -> str:
        return http_url(v).rstrip("/")

    @model_validator(mode="after")
    def _secret_only_for_webhooks(self) -> AlertSettings:
        if self.secret and self.type != "webhook":
            raise ValueError(f"secret: not used by a {self.type} sink")
        if self.mode == "digest":
            self.cadence  # noqa: B018  (raises the schedule's error)
        elif self.every is not None or self.at is not None:
            raise ValueError(f"{'every' if self.every is not None else 'at'}: only for mode = \"digest\"")
        return self

    @property
    def cadence(self) -> Cadence:
        """When a digest sink sends (``monitor.cadence``)."""
        try:
            return Cadence.parse(every=self.every, at=self.at, timezone=self.timezone)
        except ScheduleError as e:
            raise ValueError(f"{e.key}: {e}") from None

    @property
    def enabled(self) -> bool:
        if self.type == "console":
            return True
        if self.type == "telegram":
            return bool(self.token and self.chat_id)
        return bool(self.url)

    @property
    def name(self) -> str:
        return self.type

    @property
    def messages_per_second(self) -> float:
        """The rate limit per target: ``rate`` when set, else the type's default (0: none)."""
        return self.rate if self.rate is not None else DEFAULT_RATES.get(self.type, 0.0)
