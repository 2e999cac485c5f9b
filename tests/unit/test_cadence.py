"""Digest schedules: durations, times of day, cron expressions, time zones, and the config errors."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.cadence import Cadence, ScheduleError, cron_of, duration
from monitor.errors import ConfigError
from monitor.settings import from_dict


def ts(*args: int, tz: str = "UTC") -> float:
    return datetime(*args, tzinfo=ZoneInfo(tz)).timestamp()


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("15m", 900), ("1h", 3600), ("1h30m", 5400),
                                               ("1d", 86400), (" 2H ", 7200)])
def test_durations(text: str, seconds: float) -> None:
    assert duration(text) == seconds


@pytest.mark.parametrize("text", ["", "1", "h", "1x", "1h and", "-1h", "0s", "1.5h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        duration(text)


def test_every_is_aligned_to_the_epoch() -> None:
    c = Cadence.parse(every="1h")
    assert c.boundary(ts(2026, 5, 1, 10, 0, 0)) == ts(2026, 5, 1, 10)
    assert c.boundary(ts(2026, 5, 1, 10, 59, 59)) == ts(2026, 5, 1, 10)
    assert c.boundary(ts(2026, 5, 1, 9, 59, 59) + 0.999) == ts(2026, 5, 1, 9)
    assert Cadence.parse(every="15m").boundary(ts(2026, 5, 1, 10, 44)) == ts(2026, 5, 1, 10, 30)


def test_times_of_day() -> None:
    assert cron_of("08:00") == "0 8 * * *"
    assert cron_of(["18:00", "08:00"]) == "0 8,18 * * *"
    assert cron_of(["08:15", "18:30"]) == "15 8 * * *;30 18 * * *"
    assert cron_of("0  8 * * 1-5") == "0 8 * * 1-5"
    c = Cadence.parse(at=["08:15", "18:30"])
    assert c.boundary(ts(2026, 5, 1, 12)) == ts(2026, 5, 1, 8, 15)
    assert c.boundary(ts(2026, 5, 1, 20)) == ts(2026, 5, 1, 18, 30)
    assert c.boundary(ts(2026, 5, 1, 7)) == ts(2026, 4, 30, 18, 30)


def test_exactly_at_a_fire_time_is_the_new_period() -> None:
    c = Cadence.parse(at="08:00")
    assert c.boundary(ts(2026, 5, 1, 8)) == ts(2026, 5, 1, 8)
    assert c.boundary(ts(2026, 5, 1, 8) - 0.5) == ts(2026, 4, 30, 8)


def test_a_time_zone_and_its_daylight_saving_change() -> None:
    c = Cadence.parse(at="08:00", timezone="Europe/Berlin")
    # the clocks went forward on 29 March 2026: 08:00 Berlin is 07:00 UTC before, 06:00 UTC after
    assert c.boundary(ts(2026, 3, 28, 12)) == ts(2026, 3, 28, 7)
    assert c.boundary(ts(2026, 3, 29, 12)) == ts(2026, 3, 29, 6)
    assert datetime.fromtimestamp(c.boundary(ts(2026, 3, 30, 5, 59)), UTC) == datetime(2026, 3, 29, 6, tzinfo=UTC)


def test_weekdays_cron() -> None:
    c = Cadence.parse(at="30 9 * * 1-5")  # 1 May 2026 is a Friday
    assert c.boundary(ts(2026, 5, 4, 8)) == ts(2026, 5, 1, 9, 30)  # Monday before 09:30: Friday's


@pytest.mark.parametrize(("changes", "message"), [
    ({}, "alerts[0]: mode: a digest needs either every"),
    ({"every": "1h", "at": "08:00"}, "alerts[0]: mode: a digest takes every or at, not both"),
    ({"every": "soon"}, "alerts[0]: every: 'soon' is not a duration"),
    ({"at": "8am"}, "alerts[0]: at: '8am' is neither a time of day"),
    ({"at": "0 0 8 * * *"}, "alerts[0]: at: '0 0 8 * * *' is neither"),  # 6 fields: seconds are not ours
    ({"at": ["08:00", "25:00"]}, "alerts[0]: at: '25:00' is not a time of day"),
    ({"every": "1h", "timezone": "Mars/Base"}, "alerts[0]: timezone: 'Mars/Base' is not an IANA time zone"),
    ({"every": "1h", "min_claims": 0}, "alerts[0].min_claims:"),
])
def test_config_errors(changes: dict, message: str) -> None:
    alert = {"type": "console", "mode": "digest"} | changes
    with pytest.raises(ConfigError) as info:
        from_dict({"watches": [{"name": "w", "keywords": ["x"]}], "alerts": [alert]}, env={})
    assert str(info.value).startswith(message), str(info.value)


def test_schedule_keys_only_for_digests() -> None:
    with pytest.raises(ConfigError, match=r'alerts\[0\]: every: only for mode = "digest"'):
        from_dict({"watches": [{"name": "w", "keywords": ["x"]}], "alerts": [{"type": "console", "every": "1h"}]},
                  env={})
    with pytest.raises(ScheduleError):
        Cadence.parse()
