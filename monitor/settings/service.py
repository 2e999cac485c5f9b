"""``[service]`` and ``[network]``: how the processes run, and how far and how long they may fetch."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from monitor.settings.base import Strict

MIN_TOKEN_LENGTH = 16  # an API token shorter than this is guessable


class ServiceSettings(Strict):
    redis_url: str | None = None
    data_dir: Path = Path("data")
    poll_interval: float = Field(300.0, gt=0)
    workers: int = Field(0, ge=0, description="worker processes for `run`; 0 = one per CPU")
    worker_max_memory_mb: int = Field(
        1024, ge=0, description="a worker whose memory grew by more than this (MiB) since it started restarts (Linux) "
                                "between jobs; 0 = never")
    http_host: str = "127.0.0.1"
    http_port: int = Field(8787, ge=0, le=65535, description="health/metrics endpoint; 0 = off")
    api_tokens: list[str] = Field(
        [], description="bearer tokens for the HTTP endpoint (from ${ENV}; empty ones are dropped): off loopback "
                        "every route but /healthz needs one, and routes that change something always do")
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    embeddings: Literal["auto", "use", "off"] = Field(
        "auto", description="sentence encoder for novelty: auto = use (USE multilingual, installed), off = words alone")
    max_backoff: float = Field(3600.0, gt=0, description="cap of a failing feed's back-off, seconds")
    feed_lease: float = Field(120.0, gt=0, description="seconds a poller holds a feed while polling it")
    stop_timeout: float = Field(
        27.0, gt=0, description="seconds from SIGTERM to exit: in-flight polls and jobs finish, or are handed back "
                                "at the next start; keep it under a supervisor's kill timeout (Docker: 10 s)")

    @field_validator("api_tokens")
    @classmethod
    def _tokens(cls, v: list[str]) -> list[str]:
        for i, token in enumerate(v):
            if token and len(token) < MIN_TOKEN_LENGTH:
                raise ValueError(f"[{i}] is shorter than {MIN_TOKEN_LENGTH} characters "
                                 "(make one: openssl rand -hex 24)")
            if any(c.isspace() for c in token):
                raise ValueError(f"[{i}] holds white space")
        return [t for t in v if t]

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        if urlsplit(v).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("not a redis://, rediss:// or unix:// URL")
        return v


class NetworkSettings(Strict):
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
        for i, c in enumerate(v):
            try:
                ipaddress.ip_network(c, strict=False)
            except ValueError:
                raise ValueError(f"[{i}] not an address or CIDR network") from None
        return v

