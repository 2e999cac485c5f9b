"""Layered TOML configuration -> validated, typed settings.

``load(paths)`` reads each ``--config`` file in order: later files win, tables merge key by key,
arrays (``[[feeds]]``, ``[[alerts]]``, ``[[watches]]``) are replaced whole. ``${VAR}`` and
``${VAR:-default}`` in strings come from the environment. Relative seed paths are resolved against
the file that names them. Any problem raises ``ConfigError`` with one line naming the key, e.g.
``feeds[2].url: not an http(s) URL``.

Everything a process will compile or load is checked here, before anything starts: keyword
expressions (``monitor.filters``), seed files and their size (``max_seed_bytes``); the encoder
that ``service.embeddings`` names is checked by the commands that load it (``claimwatch.cli``). A
worker that fails on any of these would only exit and be restarted, over and over.

The same feed URL listed twice (two ``[[feeds]]`` for two watches) becomes one feed, polled once for
both: its watches are the union, its names joined, its interval the shorter.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor.cadence import Cadence, ScheduleError
from monitor.errors import ConfigError
from monitor.filters import compile_expression
from monitor.telegram import channel as tg_channel

_KEYED = re.compile(r"^[a-z_]+(\[\d+\])?(\.[a-z_]+)*: ")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    return value


def _expression(value: str) -> str:
    try:
        compile_expression(value)
    except ConfigError as e:
        raise ValueError(str(e)) from None
    return value


Expression = Annotated[str, AfterValidator(_expression)]  # a keyword or exclude expression that compiles


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceSettings(_Strict):
    redis_url: str | None = None
    data_dir: Path = Path("data")
    poll_interval: float = Field(300.0, gt=0)
    workers: int = Field(0, ge=0, description="worker processes for `run`; 0 = one per CPU")
    worker_max_memory_mb: int = Field(
        1024, ge=0, description="a worker whose memory grew by more than this (MiB) since it started restarts (Linux) "
                                "between jobs; 0 = never")
    http_host: str = "127.0.0.1"
    http_port: int = Field(8787, ge=0, le=65535, description="health/metrics endpoint; 0 = off")
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    embeddings: Literal["auto", "use", "off"] = Field(
        "auto", description="sentence encoder for novelty: auto = use (USE multilingual, installed), off = words alone")
    max_backoff: float = Field(3600.0, gt=0, description="cap of a failing feed's back-off, seconds")
    feed_lease: float = Field(120.0, gt=0, description="seconds a poller holds a feed while polling it")

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        if urlsplit(v).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("not a redis://, rediss:// or unix:// URL")
        return v


class NetworkSettings(_Strict):
    allow_private_addresses: bool = False
    timeout: float = Field(20.0, gt=0)
    max_feed_bytes: int = Field(20_000_000, gt=0)
    max_page_bytes: int = Field(10_000_000, gt=0)
    max_redirects: int = Field(5, ge=0)
    concurrency: int = Field(16, gt=0, description="feeds fetched at once by one poller")
    user_agent: str = "claimwatch/0.1 (news monitor; +https://github.com/claimwatch/claimwatch)"
    fetch_deadline: float = Field(60.0, gt=0, description="total seconds one fetch may take, redirects included")
    page_deadline: float = Field(15.0, gt=0, description="total seconds one article page may take (a worker waits)")
    max_feed_items: int = Field(2000, gt=0, description="items read from one feed document (the first ones)")
    allow_networks: list[str] = Field([], description="CIDRs reachable even though private, e.g. 10.0.0.5/32")

    @field_validator("allow_networks")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        import ipaddress

        for i, c in enumerate(v):
            try:
                ipaddress.ip_network(c, strict=False)
            except ValueError:
                raise ValueError(f"[{i}] not an address or CIDR network") from None
        return v


class NoveltySettings(_Strict):
    """How a watch decides that a sentence says something new (README: "How novelty is decided")."""

    known_similarity: float = Field(0.5, gt=0, le=1, description="at or above: the same fact as a known one")
    min_words: int = Field(6, ge=1, description="shorter sentences are not claims")
    semantic_similarity: float = Field(0.75, gt=0, le=1, description="embedding cosine at which a claim is known")
    relevance: float = Field(0.15, ge=0, le=1, description="share of an article's words topical for the watch")
    near_duplicate: float = Field(0.8, gt=0, le=1, description="shingle Jaccard at which a page is a copy")
    days_before: float = Field(7, ge=0, description="articles published this long before the events are another story")
    days_after: float = Field(45, ge=0, description="... and this long after the latest accepted article")


class WatchSettings(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    keywords: list[Expression] = Field(min_length=1)
    exclude: list[Expression] = []
    seed: list[Path] = []
    max_seed_bytes: int = Field(
        2_000_000, gt=0, validate_default=True,
        description="the seed files' total size at most; each MB takes ~45 s to seed with the default encoder "
                    "(once per watch) and ~40 MB of memory in every worker (README 'What a seed costs')")
    max_age_days: float | None = Field(None, gt=0, description="ignore entries older than this; none = no cut-off")
    event_dates: list[date] = Field([], description="when the watched events happened (TOML dates)")
    novelty: NoveltySettings = NoveltySettings()

    @field_validator("seed")
    @classmethod
    def _seed_exists(cls, v: list[Path]) -> list[Path]:
        for p in v:
            if not p.is_file():
                raise ValueError(f"seed file not found: {p}")
        return v

    @field_validator("max_seed_bytes")
    @classmethod
    def _seed_size(cls, v: int, info: ValidationInfo) -> int:
        total = sum(Path(p).stat().st_size for p in info.data.get("seed") or ())
        if total > v:
            raise ValueError(f"the seed files hold {total:,} bytes, over this limit of {v:,} (every worker keeps "
                             "what it knows in memory: trim the seed, or raise the limit knowingly)")
        return v


class FeedSettings(_Strict):
    """One ``[[feeds]]`` entry: an RSS/Atom feed (``url``), or a public Telegram channel
    (``type = "telegram"``, ``channel = "name"`` or ``url =`` its preview page ``<base>/s/<name>``)."""

    url: str
    type: Literal["rss", "telegram"] = "rss"
    channel: str | None = None  # telegram: the channel's public name (filled in from ``url``)
    name: str = ""
    category: str = ""  # a reader's folder (OPML import/export keeps it)
    interval: float | None = Field(None, gt=0)
    watches: list[str] | None = None

    _url = field_validator("url")(classmethod(lambda cls, v: _http_url(v)))

    @model_validator(mode="before")
    @classmethod
    def _telegram(cls, data: Any) -> Any:
        return tg_channel.feed_fields(data) if isinstance(data, dict) else data


TELEGRAM_API = "https://api.telegram.org"
_URL_SINKS = ("webhook", "slack", "mattermost", "discord", "teams", "apprise")
# Messages per second each type sends by default, per target (a webhook URL, a Telegram chat):
# Slack incoming webhooks ~1/s; Telegram 1/s per chat; Teams Workflows ~4/s; Discord 30/min per channel.
DEFAULT_RATES: dict[str, float] = {"slack": 1.0, "mattermost": 1.0, "discord": 0.5, "teams": 4.0, "telegram": 1.0}
_TELEGRAM_TOKEN = re.compile(r"^[0-9]+:[A-Za-z0-9_-]+$")
_TELEGRAM_CHAT = re.compile(r"^(-?[0-9]+|@[A-Za-z][A-Za-z0-9_]{3,})$")


class AlertSettings(_Strict):
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
        return _http_url(v) if v else v

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
        return _http_url(v).rstrip("/")

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


class Settings(_Strict):
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


def merge_feeds(feeds: Sequence[FeedSettings], default_interval: float) -> list[FeedSettings]:
    """One feed per URL, in first-listed order. A URL listed again (for another watch) is polled once
    for both: watches are the union (every watch if either says so), names joined with " / ", the
    interval the shorter (the service's ``poll_interval`` standing in for one not set)."""
    by_url: dict[str, FeedSettings] = {}
    for feed in feeds:
        first = by_url.get(feed.url)
        if first is None:
            by_url[feed.url] = feed
            continue
        watches = None if first.watches is None or feed.watches is None else [
            *first.watches, *(w for w in feed.watches if w not in first.watches)]
        names = first.name.split(" / ") if first.name else []
        if feed.name and feed.name not in names:
            names.append(feed.name)
        interval = None if first.interval is None and feed.interval is None else min(
            first.interval or default_interval, feed.interval or default_interval)
        by_url[feed.url] = first.model_copy(
            update={"watches": watches, "interval": interval, "name": " / ".join(names)})
    return list(by_url.values())


# --------------------------------------------------------------------------- loading


def merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Later wins; tables merge key by key; arrays (of tables or values) are replaced whole."""
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def _substitute(value: Any, where: str, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):

        def repl(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            raise ConfigError(f"{where}: environment variable {name} is not set")

        return _ENV.sub(repl, value)
    if isinstance(value, Mapping):
        return {k: _substitute(v, f"{where}.{k}" if where else k, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, f"{where}[{i}]", env) for i, v in enumerate(value)]
    return value


def _resolve_paths(doc: dict[str, Any], base: Path) -> None:
    for watch in doc.get("watches") or []:
        if isinstance(watch, dict) and isinstance(watch.get("seed"), list):
            watch["seed"] = [str((base / s).resolve()) if isinstance(s, str) else s for s in watch["seed"]]


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    _resolve_paths(doc, path.parent)
    return doc


def _location(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith("function-"):
            out += ("." if out else "") + str(part)
    return out or "config"


def from_dict(raw: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Settings:
    data = _substitute(dict(raw), "", os.environ if env is None else env)
    try:
        return Settings.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "required"
        where = _location(err["loc"])
        if _KEYED.match(msg) and (where == "config" or msg.startswith(where)):
            raise ConfigError(msg) from None  # a check across keys names its own ("feeds[2].watches: ...")
        raise ConfigError(f"{where}: {msg}") from None


def load(paths: Sequence[Path], env: Mapping[str, str] | None = None) -> Settings:
    if not paths:
        raise ConfigError("no --config file given")
    merged: dict[str, Any] = {}
    for p in paths:
        merged = merge(merged, _read(Path(p)))
    return from_dict(merged, env)
