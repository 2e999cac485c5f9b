"""monitor.schedule: next poll time."""

from __future__ import annotations

import pytest

from monitor.schedule import next_poll

NOW = 1_700_000_000.0


def mid() -> float:
    return 0.5


def test_healthy_uses_interval() -> None:
    assert next_poll(NOW, 300) == NOW + 300


def test_hints_stretch_but_never_shorten_and_are_capped() -> None:
    assert next_poll(NOW, 300, max_age=600) == NOW + 600
    assert next_poll(NOW, 300, ttl=1800) == NOW + 1800
    assert next_poll(NOW, 300, max_age=60, ttl=120) == NOW + 300
    assert next_poll(NOW, 300, max_age=86400, cap=3600) == NOW + 3600
    assert next_poll(NOW, 300, max_age=0) == NOW + 300
    assert next_poll(NOW, 7200, ttl=86400, cap=3600) == NOW + 7200  # a long interval stays


def test_backoff_doubles_with_errors() -> None:
    delays = [next_poll(NOW, 60, errors=e, rng=mid) - NOW for e in range(1, 6)]
    assert delays == [120, 240, 480, 960, 1920]


def test_backoff_is_capped() -> None:
    assert next_poll(NOW, 60, errors=50, cap=3600, rng=mid) == NOW + 3600
    assert next_poll(NOW, 60, errors=10_000, cap=3600, rng=lambda: 0.999) <= NOW + 3600


@pytest.mark.parametrize("r", [0.0, 0.25, 0.5, 0.75, 0.999])
def test_backoff_jitter_within_20_percent(r: float) -> None:
    delay = next_poll(NOW, 100, errors=2, rng=lambda: r) - NOW
    assert 320 <= delay <= 480
    capped = next_poll(NOW, 100, errors=9, cap=1000, rng=lambda: r) - NOW
    assert 800 <= capped <= 1000


def test_jitter_spreads_feeds() -> None:
    assert len({next_poll(NOW, 60, errors=3) for _ in range(20)}) > 1


def test_retry_after_is_a_floor() -> None:
    assert next_poll(NOW, 60, errors=1, retry_after=900, rng=mid) == NOW + 900
    assert next_poll(NOW, 60, errors=1, retry_after=5, rng=mid) == NOW + 120
    assert next_poll(NOW, 60, errors=1, retry_after=7200, cap=3600, rng=mid) == NOW + 7200
    assert next_poll(NOW, 60, retry_after=600) == NOW + 600
