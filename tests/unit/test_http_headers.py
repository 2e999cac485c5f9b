"""monitor.http.headers: what response headers say (Retry-After, cache lifetime), read once for everyone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from monitor.http.headers import body_retry_after, cache_max_age, http_date, merged, parse_retry_after


def test_parse_retry_after_seconds_and_dates() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("0.64") == 0.64  # chat APIs send fractions
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp()) == 90.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=5), usegmt=True), now=now.timestamp()) == 0.0
    assert parse_retry_after("Wed, 01 May 2024 11:00:00 GMT", now=now.timestamp()) == 0.0  # in the past


@pytest.mark.parametrize("bad", [None, "", "soon", "-5", "-3", "1.5e3", "nan", "inf", "Wed, 99 Foo 2024",
                                 "Wed, 01 May 2024 12:00:00"])  # the last: no zone
def test_parse_retry_after_refuses_what_it_cannot_read(bad: str | None) -> None:
    assert parse_retry_after(bad, now=0.0) is None


@pytest.mark.parametrize(("body", "expected"), [
    (b'{"message": "You are being rate limited.", "retry_after": 0.64, "global": false}', 0.64),  # Discord
    (b'{"ok": false, "error_code": 429, "parameters": {"retry_after": 31}}', 31.0),  # Telegram
    (b'{"retry_after": -2}', 0.0), (b'{"retry_after": true}', None), (b'{"retry_after": "9"}', None),
    (b"slow down", None), (b"[1]", None), (b"\xff", None),
])
def test_body_retry_after(body: bytes, expected: float | None) -> None:
    assert body_retry_after(body) == expected


def test_http_date() -> None:
    assert http_date("Wed, 01 May 2024 12:00:00 GMT") == datetime(2024, 5, 1, 12, tzinfo=UTC).timestamp()
    assert http_date("0") is None and http_date(None) is None and http_date("  ") is None


def test_merged_headers_join_repeats_and_lower_case_names() -> None:
    assert merged([("Link", "<a>"), ("link", "<b>"), ("ETag", '"v"')]) == {"link": "<a>, <b>", "etag": '"v"'}


@pytest.mark.parametrize(("headers", "expected"), [
    ({"Cache-Control": "public, max-age=600"}, 600.0),
    ({"cache-control": "s-maxage=120"}, 120.0),
    ({"Cache-Control": "max-age=30, s-maxage=900"}, 30.0),
    ({"Cache-Control": 'max-age="45"'}, 45.0),
    ({"Cache-Control": "no-cache, max-age=600"}, None),
    ({"Cache-Control": "no-store"}, None),
    ({"Expires": "Wed, 01 May 2024 12:10:00 GMT", "Date": "Wed, 01 May 2024 12:00:00 GMT"}, 600.0),
    ({"Expires": "0", "Date": "Wed, 01 May 2024 12:00:00 GMT"}, None),
    ({"Expires": "Wed, 01 May 2024 11:00:00 GMT", "Date": "Wed, 01 May 2024 12:00:00 GMT"}, 0.0),
    ({}, None),
])
def test_cache_max_age(headers: dict[str, str], expected: float | None) -> None:
    assert cache_max_age(headers) == expected


def test_expires_without_date_uses_now() -> None:
    now = 1714564800.0  # 2024-05-01 12:00:00 UTC
    assert cache_max_age({"Expires": "Wed, 01 May 2024 12:05:00 GMT"}, now=now) == 300.0
