"""Counters, stage latencies and heartbeats: what ``status``, ``/metrics`` and ``/healthz`` read.

Each write is one round trip (several latencies together: one pipeline), cheap enough for every poll
and every article. Latencies are Prometheus-style histograms kept as plain hash fields, so any
number of processes add to them without coordination.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import redis

from monitor.store import keys
from monitor.store.values import as_str, as_str_dict

LATENCY_BOUNDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
"""Histogram bucket upper bounds (seconds), from a fast feed fetch to a slow page with its model pass."""


def latency_bucket(seconds: float) -> str:
    """The histogram bucket (its upper bound, or "inf") of an observation."""
    return str(next((b for b in LATENCY_BOUNDS if seconds <= b), "inf"))


class Metrics:
    """``cw:stats``, ``cw:latency`` and ``cw:heartbeat:*``."""

    def __init__(self, client: redis.Redis):
        self.client = client

    # ------------------------------------------------------------------ counters

    def count(self, name: str, n: int = 1) -> None:
        self.client.hincrby(keys.STATS, name, n)

    def stats(self) -> dict[str, int]:
        return {k: int(v) for k, v in as_str_dict(self.client.hgetall(keys.STATS)).items()}

    # ------------------------------------------------------------------ latencies

    def observe(self, stage: str, seconds: float) -> None:
        """One observation of a stage's duration: a sum, a count and one histogram bucket."""
        self.observe_many({stage: seconds})

    def observe_many(self, timings: Mapping[str, float]) -> None:
        """Several stages' observations in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        for stage, seconds in timings.items():
            pipe.hincrbyfloat(keys.LATENCY, f"{stage}:sum", max(0.0, seconds))
            pipe.hincrby(keys.LATENCY, f"{stage}:count", 1)
            pipe.hincrby(keys.LATENCY, f"{stage}:le:{latency_bucket(seconds)}", 1)
        pipe.execute()

    def latencies(self) -> dict[str, dict[str, Any]]:
        """stage -> {"sum": s, "count": n, "buckets": [(bound, cumulative count), ..., ("+Inf", n)]}."""
        out: dict[str, dict[str, Any]] = {}
        for key, value in as_str_dict(self.client.hgetall(keys.LATENCY)).items():
            stage, _, rest = key.partition(":")
            d = out.setdefault(stage, {"sum": 0.0, "count": 0, "per": {}})
            if rest == "sum":
                d["sum"] = float(value)
            elif rest == "count":
                d["count"] = int(value)
            elif rest.startswith("le:"):
                d["per"][rest[3:]] = int(value)
        for d in out.values():
            running, buckets = 0, []
            for b in LATENCY_BOUNDS:
                running += d["per"].get(str(b), 0)
                buckets.append((str(b), running))
            buckets.append(("+Inf", d["count"]))
            d["buckets"] = buckets
            del d["per"]
        return out

    # ------------------------------------------------------------------ liveness

    def heartbeat(self, role: str, ident: str, ttl: float = 30.0) -> None:
        """``ident`` (of ``role``) is alive; it is not, ``ttl`` seconds after its last beat."""
        self.client.set(keys.heartbeat(role, ident), str(time.time()), px=int(ttl * 1000))

    def forget_heartbeat(self, role: str, ident: str) -> None:
        """``ident`` stopped: it is not alive from now on (not ``ttl`` seconds later)."""
        self.client.delete(keys.heartbeat(role, ident))

    def alive(self, role: str) -> list[str]:
        """The idents of ``role`` that beat within their ttl."""
        return [as_str(k).rsplit(":", 1)[-1] for k in self.client.scan_iter(keys.heartbeats(role))]

    def heartbeat_ages(self, role: str) -> dict[str, float]:
        """ident -> seconds since its last heartbeat, for the live (unexpired) ones."""
        found = list(self.client.scan_iter(keys.heartbeats(role)))
        values = self.client.mget(found) if found else []
        now = time.time()
        out = {}
        for k, v in zip(found, values, strict=True):
            if v is not None:
                try:
                    out[as_str(k).split(f"heartbeat:{role}:", 1)[1]] = max(0.0, now - float(as_str(v)))
                except ValueError:
                    continue
        return out
