"""Values as Redis returns them (bytes: the client does not decode) -> str, in one place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def as_str(value: Any) -> str:
    """A value read back from Redis as text (bytes decoded as UTF-8, bad bytes replaced)."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def as_str_dict(values: Mapping[Any, Any]) -> dict[str, str]:
    """A hash read back (HGETALL) as text."""
    return {as_str(k): as_str(v) for k, v in values.items()}
