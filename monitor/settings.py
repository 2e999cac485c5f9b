"""Layered TOML configuration -> validated, typed settings.

``load(paths)`` reads each ``--config`` file in order: later files win, tables merge key by key,
arrays (``[[feeds]]``, ``[[alerts]]``, ``[[watches]]``) are replaced whole. ``${VAR}`` and
``${VAR:-default}`` in strings come from the environment. Relative seed paths are resolved against
the file that names them. Any problem raises ``ConfigError`` with one line naming the key, e.g.
``feeds[2].url: not an http(s) URL``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from monitor.errors import ConfigError

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceSettings(_Strict):
    redis_url: str | None = None
    data_dir: Path = Path("data")
    poll_interval: float = Field(300.0, gt=0)
    workers: int = Field(0, ge=0, description="worker processes for `run`; 0 = one per CPU")
    http_host: str = "127.0.0.1"
    http_port: int = Field(8787, ge=0, le=65535, description="health/metrics endpoint; 0 = off")
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
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


class NoveltySettings(_Strict):
    """How a watch decides that a sentence says something new (README: "How novelty is decided")."""

    known_similarity: float = Field(0.5, gt=0, le=1, description="at or above: the same fact as a known one")
    min_words: int = Field(6, ge=1, description="shorter sentences are not claims")
    relevance: float = Field(0.25, ge=0, le=1, description="share of an article's vocabulary the watch must know")
    near_duplicate: float = Field(0.8, gt=0, le=1, description="shingle Jaccard at which a page is a copy")


class WatchSettings(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    keywords: list[str] = Field(min_length=1)
    exclude: list[str] = []
    seed: list[Path] = []
    max_age_days: float | None = Field(None, gt=0, description="ignore entries older than this; none = no cut-off")
    novelty: NoveltySettings = NoveltySettings()

    @field_validator("seed")
    @classmethod
    def _seed_exists(cls, v: list[Path]) -> list[Path]:
        for p in v:
            if not p.is_file():
                raise ValueError(f"seed file not found: {p}")
        return v


class FeedSettings(_Strict):
    url: str
    name: str = ""
    interval: float | None = Field(None, gt=0)
    watches: list[str] | None = None

    _url = field_validator("url")(classmethod(lambda cls, v: _http_url(v)))


class AlertSettings(_Strict):
    type: Literal["webhook", "console"]
    url: str | None = None
    secret: str | None = None
    watches: list[str] | None = None
    timeout: float = Field(10.0, gt=0)

    @model_validator(mode="after")
    def _needs_url(self) -> AlertSettings:
        if self.type == "webhook" and self.url:
            _http_url(self.url)
        return self

    @property
    def enabled(self) -> bool:
        return self.type == "console" or bool(self.url)

    @property
    def name(self) -> str:
        return self.type


class Settings(_Strict):
    service: ServiceSettings = ServiceSettings()
    network: NetworkSettings = NetworkSettings()
    watches: list[WatchSettings] = Field(min_length=1)
    feeds: list[FeedSettings] = []
    alerts: list[AlertSettings] = []

    @model_validator(mode="after")
    def _references(self) -> Settings:
        names = [w.name for w in self.watches]
        if len(set(names)) != len(names):
            raise ValueError("watches: two watches share a name")
        for kind, items in (("feeds", self.feeds), ("alerts", self.alerts)):
            for i, item in enumerate(items):
                for w in item.watches or ():
                    if w not in names:
                        raise ValueError(f"{kind}[{i}].watches: no watch named {w!r}")
        return self

    def watch(self, name: str) -> WatchSettings:
        for w in self.watches:
            if w.name == name:
                return w
        raise ConfigError(f"watches: no watch named {name!r}")


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
        raise ConfigError(f"{_location(err['loc'])}: {msg}") from None


def load(paths: Sequence[Path], env: Mapping[str, str] | None = None) -> Settings:
    if not paths:
        raise ConfigError("no --config file given")
    merged: dict[str, Any] = {}
    for p in paths:
        merged = merge(merged, _read(Path(p)))
    return from_dict(merged, env)
