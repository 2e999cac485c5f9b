"""``[[watches]]``: what a watch looks for (keywords, exclusions), what it knows (seed files) and
how it decides that a sentence is new (``[watches.novelty]``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator

from monitor.settings.base import Expression, Strict


class NoveltySettings(Strict):
    """How a watch decides that a sentence says something new (README: "How novelty is decided")."""

    known_similarity: float = Field(0.5, gt=0, le=1, description="at or above: the same fact as a known one")
    min_words: int = Field(6, ge=1, description="shorter sentences are not claims")
    semantic_similarity: float = Field(0.75, gt=0, le=1, description="embedding cosine at which a claim is known")
    relevance: float = Field(0.15, ge=0, le=1, description="share of an article's words topical for the watch")
    near_duplicate: float = Field(0.8, gt=0, le=1, description="shingle Jaccard at which a page is a copy")
    days_before: float = Field(7, ge=0, description="articles published this long before the events are another story")
    days_after: float = Field(45, ge=0, description="... and this long after the latest accepted article")


class WatchSettings(Strict):
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

