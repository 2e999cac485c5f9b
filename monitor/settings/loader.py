"""Reading the configuration: layered TOML files, ``${VAR}`` from the environment, one error line.

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
from typing import Any

from pydantic import ValidationError

from monitor.errors import ConfigError
from monitor.settings.config import Settings

_KEYED = re.compile(r"^[a-z_]+(\[\d+\])?(\.[a-z_]+)*: ")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


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
