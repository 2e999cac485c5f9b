"""Delivery without I/O: the retry schedule, and the container files that deploy the service."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from monitor.errors import TransientError
from monitor.settings import from_dict, merge
from workers.delivery import MAX_ATTEMPTS, retry_delay

ROOT = Path(__file__).resolve().parents[2]


def _err(retry_after: float | None = None) -> TransientError:
    return TransientError("webhook sink 0: HTTP 503", kind="http_5xx", retry_after=retry_after)


# --------------------------------------------------------------------------- retry_delay


@pytest.mark.parametrize("r", [0.0, 0.5, 0.999999])
def test_first_retry_is_about_base(r: float) -> None:
    assert 0.75 <= retry_delay(0, _err(), rng=lambda: r) <= 1.25
    assert 7.5 <= retry_delay(0, _err(), base=10.0, rng=lambda: r) <= 12.5


def test_growth_is_exponential_until_the_cap() -> None:
    mid = [retry_delay(a, _err(), rng=lambda: 0.5) for a in range(12)]
    assert mid[:9] == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0]
    assert mid[9:] == [300.0, 300.0, 300.0]
    assert mid == sorted(mid)


def test_jitter_keeps_growth_monotone_ish() -> None:
    # the lowest draw of attempt n+1 is still above the highest draw of attempt n-1
    for a in range(1, 7):
        assert retry_delay(a + 1, _err(), rng=lambda: 0.0) > retry_delay(a - 1, _err(), rng=lambda: 0.999999)


@pytest.mark.parametrize("attempt", [0, 1, 5, 8, 20, 100, 10_000])
@pytest.mark.parametrize("r", [0.0, 0.3, 0.999999])
def test_never_above_the_cap_nor_below_zero(attempt: int, r: float) -> None:
    d = retry_delay(attempt, _err(), cap=60.0, rng=lambda: r)
    assert 0.0 < d <= 60.0


def test_retry_after_is_a_floor() -> None:
    assert retry_delay(0, _err(retry_after=42.0), rng=lambda: 0.5) == 42.0
    assert retry_delay(0, _err(retry_after=0.1), rng=lambda: 0.5) == 1.0  # backoff wins when longer
    assert retry_delay(3, _err(retry_after=0.0), rng=lambda: 0.5) == 8.0


def test_retry_after_may_exceed_the_cap_up_to_an_hour() -> None:
    assert retry_delay(0, _err(retry_after=900.0), cap=300.0) == 900.0
    assert retry_delay(0, _err(retry_after=86_400.0), cap=300.0) == 3600.0


def test_default_rng_stays_in_bounds() -> None:
    for _ in range(200):
        assert 0.75 <= retry_delay(0, _err()) <= 1.25
    assert MAX_ATTEMPTS == 8


# --------------------------------------------------------------------------- deployment files


def test_delivery_docker_override_config() -> None:
    doc = tomllib.loads((ROOT / "config" / "docker.toml").read_text(encoding="utf-8"))
    assert doc["service"]["data_dir"] == "/data"
    base = {"watches": [{"name": "w", "keywords": ["x"]}]}
    compose = from_dict(merge(base, doc), env={"CLAIMWATCH_REDIS_URL": "redis://redis:6379/0"})
    assert compose.service.redis_url == "redis://redis:6379/0"
    alone = from_dict(merge(base, doc), env={})
    assert alone.service.redis_url is None  # `docker run` alone: the embedded Redis under /data
    assert str(alone.service.data_dir) == "/data"


def test_delivery_dockerfile_basics() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert text.startswith("#") and "FROM python:3.12-slim" in text
    assert "USER claimwatch" in text and "pip install ." in text
    assert 'ENTRYPOINT ["tini", "--", "claimwatch"]' in text and "EXPOSE 8787" in text and "VOLUME /data" in text
    assert "config/docker.toml" in text


def test_delivery_compose_file() -> None:
    yaml = pytest.importorskip("yaml")
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = doc["services"]
    assert services["redis"]["image"] == "redis:7-alpine"
    assert "--appendonly" in services["redis"]["command"]
    assert services["poller"]["command"][0] == "poller"
    assert services["worker"]["command"][0] == "worker"
    assert services["worker"]["deploy"]["replicas"] == 2
    for name in ("poller", "worker"):
        assert services[name]["environment"]["CLAIMWATCH_REDIS_URL"] == "redis://redis:6379/0"
