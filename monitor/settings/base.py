"""What every settings table shares: strict frozen models, the URL and keyword-expression checks."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict

from monitor.errors import ConfigError
from monitor.filters import compile_expression


def http_url(value: str) -> str:
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


class Strict(BaseModel):
    """A table that rejects unknown keys (a typo is an error, not a silent default) and is read-only."""

    model_config = ConfigDict(extra="forbid", frozen=True)
