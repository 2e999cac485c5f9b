"""Sinks without I/O: renderings against golden files, the signature, escaping, status mapping, wiring."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import time
from pathlib import Path

import httpx
import pytest

from monitor.errors import ConfigError, Gone, PermanentError, TransientError
from monitor.models import Alert, Claim, Known
from monitor.settings import AlertSettings, Settings, from_dict
from workers.sinks import build_sinks, sinks_for
from workers.sinks.base import Sink, post
from workers.sinks.console import ConsoleSink, clean, render_text, when
from workers.sinks.webhook import WebhookSink, encode, headers, sign, sign_timestamped

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
URL = "https://hooks.example.net/services/T0/B0/s3cr3t-token"
SECRET = "topsecret-hmac-key"


def sample_alert(**changes: object) -> Alert:
    fields: dict[str, object] = {
        "id": "a1b2c3d4e5f60718",
        "type": "new_claims",
        "watch": "belgorod-raids",
        "article_url": "https://news.example.org/2023/05/23/raid-update",
        "article_title": "Shelling reported near Shebekino, Белгород region",
        "article_source": "Example News",
        "article_published": "2023-05-23T10:00:00+00:00",
        "claims": (
            Claim(
                text="Two villages near Shebekino were evacuated on Tuesday morning.",
                attribution="regional governor Vyacheslav Gladkov",
                nearest_known=Known("Residents of Kozinka were told to leave their homes.", 0.3141),
            ),
            Claim(text="A drone struck an administrative building in Белгород.", attribution=None, nearest_known=None),
        ),
        "detected_at": "2023-05-23T10:04:17+00:00",
    }
    fields.update(changes)
    return Alert(**fields)  # type: ignore[arg-type]


def check_golden(name: str, actual: str) -> None:
    """Compare with tests/golden/NAME; UPDATE_GOLDEN=1 rewrites the file instead."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
        return
    assert path.is_file(), f"{path} missing: run with UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text(encoding="utf-8")


def settings(alerts: list[dict[str, object]], watches: tuple[str, ...] = ("w1", "w2")) -> Settings:
    return from_dict({"watches": [{"name": w, "keywords": ["x"]} for w in watches], "alerts": alerts}, env={})


# --------------------------------------------------------------------------- webhook


def test_webhook_payload_matches_golden() -> None:
    sink = WebhookSink("0:webhook", URL)
    payload = sink.render(sample_alert())
    check_golden("webhook.json", json.dumps(payload, ensure_ascii=False, indent=2) + "\n")


def test_webhook_payload_has_exactly_the_contract_keys() -> None:
    payload = WebhookSink("0:webhook", URL).render(sample_alert())
    assert set(payload) == {"type", "id", "watch", "article", "claims", "detected_at"}
    assert set(payload["article"]) == {"url", "title", "source", "published"}
    for claim in payload["claims"]:
        assert set(claim) == {"text", "attribution", "nearest_known"}
    assert payload["claims"][0]["nearest_known"] == {
        "text": "Residents of Kozinka were told to leave their homes.",
        "similarity": 0.314,
    }
    assert payload["claims"][1]["nearest_known"] is None


def test_webhook_body_is_utf8_json_not_ascii_escaped() -> None:
    alert = sample_alert()
    body = encode(alert.payload())
    assert body == json.dumps(alert.payload(), ensure_ascii=False).encode()
    assert "Белгород".encode() in body
    assert json.loads(body) == alert.payload()


def test_sign_is_hmac_sha256_of_the_raw_body() -> None:
    body = encode(sample_alert().payload())
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert sign(SECRET, body) == "sha256=" + expected
    assert sign(SECRET, body + b" ") != sign(SECRET, body)
    assert sign("other", body) != sign(SECRET, body)


def test_headers_signed_only_with_a_secret() -> None:
    alert = sample_alert()
    body = encode(alert.payload())
    signed = headers(alert, body, secret=SECRET, user_agent="ua/1", timestamp=1_700_000_000)
    assert signed == {
        "Content-Type": "application/json",
        "User-Agent": "ua/1",
        "X-Claimwatch-Id": alert.id,
        "X-Claimwatch-Event": "new_claims",
        "X-Claimwatch-Timestamp": "1700000000",
        "X-Claimwatch-Signature": sign(SECRET, body),
        "X-Claimwatch-Signature-Timestamped": sign_timestamped(SECRET, 1_700_000_000, body),
    }
    unsigned = headers(alert, body, secret=None, user_agent="ua/1")
    assert not any("signature" in k.lower() for k in unsigned)
    assert abs(int(unsigned["X-Claimwatch-Timestamp"]) - time.time()) < 5


def test_timestamped_signature_covers_the_time_and_verifies_as_the_readme_says() -> None:
    body = encode(sample_alert().payload())
    ts = 1_700_000_000
    expected = hmac.new(SECRET.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    assert sign_timestamped(SECRET, ts, body) == "sha256=" + expected
    assert sign_timestamped(SECRET, ts + 1, body) != sign_timestamped(SECRET, ts, body)  # a replayed body with a
    assert sign_timestamped(SECRET, ts, body) != sign(SECRET, body)                     # new time fails the check


def test_webhook_repr_hides_url_and_secret() -> None:
    sink = WebhookSink("0:webhook", URL, secret=SECRET)
    text = repr(sink) + str(sink)
    assert "s3cr3t" not in text and SECRET not in text and "hooks.example" not in text
    assert isinstance(sink, Sink)


# --------------------------------------------------------------------------- console


def test_console_text_matches_golden() -> None:
    check_golden("console.txt", ConsoleSink("1:console").render(sample_alert()))


def test_console_render_layout() -> None:
    text = render_text(sample_alert())
    lines = text.splitlines()
    assert lines[0] == "[belgorod-raids] new claims · Example News · 2023-05-23 10:00 UTC"
    assert lines[-1] == "  https://news.example.org/2023/05/23/raid-update"
    assert "  • A drone struck an administrative building in Белгород." in lines


def test_console_strips_ansi_and_control_characters() -> None:
    evil = sample_alert(
        article_title="\x1b[2J\x1b[31mRED\x1b[0m title\x1b]0;owned\x07 and \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\",
        article_source="Out\rlet\x00",
        claims=(
            Claim(
                text="line one\nFAKE LINE\x08\x7f\x9b31m \u202egnp.exe",
                attribution="\x1bc\x1b(Bsomeone",
                nearest_known=Known("known\x1b[1A text", 0.5),
            ),
        ),
    )
    text = render_text(evil)
    assert "\x1b" not in text and "\x9b" not in text and "\u202e" not in text
    assert all(ch == "\n" or ch.isprintable() for ch in text)
    assert "RED title and link" in text
    assert "owned" not in text
    assert "Out let" in text
    assert "• line one FAKE LINE" in text  # folded onto the claim's line: no fake line of output
    assert "— someone" in text
    assert len(text.splitlines()) == 5


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain", "plain"),
        ("\x1b[1;31mbold red\x1b[m", "bold red"),
        ("a\tb\n\nc", "a b c"),
        ("\x1b]2;title\x1b\\x", "x"),
        ("tail\x1b", "tail"),
        (None, ""),
    ],
)
def test_clean(raw: str | None, expected: str) -> None:
    assert clean(raw) == expected


def test_console_time_formats() -> None:
    assert when("2023-05-23T12:00:00+02:00") == "2023-05-23 10:00 UTC"
    assert when("2023-05-23T10:00:00Z") == "2023-05-23 10:00 UTC"
    assert when("2023-05-23T10:00:00") == "2023-05-23 10:00 UTC"
    assert when("yesterday\x1b[2J") == "yesterday"
    assert when(None) == ""
    no_date = render_text(sample_alert(article_published=None, article_source=""))
    assert no_date.splitlines()[0] == "[belgorod-raids] new claims · 2023-05-23 10:04 UTC"


def test_console_send_writes_to_its_stream() -> None:
    out = io.StringIO()
    sink = ConsoleSink("0:console", out)
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500))) as client:
        sink.send(sample_alert(), client)
    assert out.getvalue() == render_text(sample_alert()) + "\n"


# --------------------------------------------------------------------------- status mapping


def _post_answered(status: int, headers: dict[str, str] | None = None, body: bytes = b"",
                   label: str = "webhook sink 0") -> httpx.Response:
    """``post`` against a receiver that answers ``status``: the sinks' one path to the status table."""
    transport = httpx.MockTransport(lambda r: httpx.Response(status, headers=headers, content=body))
    with httpx.Client(transport=transport) as client:
        return post(client, URL, b"{}", {}, timeout=1.0, label=label)


def test_status_2xx_is_success() -> None:
    for status in (200, 201, 204):
        assert _post_answered(status).status_code == status


@pytest.mark.parametrize(
    ("headers", "body", "retry_after"),
    [
        ({"Retry-After": "7"}, b"", 7.0),
        ({"Retry-After": "7"}, b'{"retry_after": 99}', 7.0),
        ({}, b'{"message": "You are being rate limited.", "retry_after": 0.64, "global": false}', 0.64),
        ({}, b'{"ok": false, "error_code": 429, "parameters": {"retry_after": 31}}', 31.0),
        ({}, b"slow down", None),
        ({"Retry-After": "soon"}, b"", None),
    ],
)
def test_status_429(headers: dict[str, str], body: bytes, retry_after: float | None) -> None:
    with pytest.raises(TransientError) as info:
        _post_answered(429, headers, body)
    assert info.value.kind == "http_429"
    assert info.value.retry_after == retry_after
    assert str(info.value) == "webhook sink 0: HTTP 429"


@pytest.mark.parametrize(
    ("status", "error", "kind"),
    [
        (500, TransientError, "http_5xx"),
        (502, TransientError, "http_5xx"),
        (503, TransientError, "http_503"),  # the service's one table: as for feeds and pages
        (408, TransientError, "http_5xx"),
        (400, PermanentError, "http_4xx"),
        (401, PermanentError, "http_4xx"),
        (404, Gone, "http_404"),
        (410, Gone, "http_410"),
        (301, PermanentError, "http_3xx"),
        (307, PermanentError, "http_3xx"),
    ],
)
def test_status_mapping(status: int, error: type[Exception], kind: str) -> None:
    with pytest.raises(error) as info:
        _post_answered(status, {"Location": "http://127.0.0.1/"}, b"", label="webhook sink 3")
    assert info.value.kind == kind  # type: ignore[attr-defined]
    assert str(info.value).startswith(f"webhook sink 3: HTTP {status}")


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (httpx.ReadTimeout("timed out"), "timeout"),
        (httpx.ConnectTimeout("timed out"), "timeout"),
        (httpx.ConnectError(f"cannot connect to {URL}"), "network"),
        (httpx.RemoteProtocolError(f"bad {URL}"), "network"),
    ],
)
def test_post_maps_transport_errors_without_the_url(exc: Exception, kind: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    with httpx.Client(transport=httpx.MockTransport(handler)) as client, pytest.raises(TransientError) as info:
        post(client, URL, b"{}", {}, timeout=1.0, label="webhook sink 0")
    assert info.value.kind == kind
    assert "hooks.example" not in str(info.value) and "s3cr3t" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_post_sends_body_and_headers_and_does_not_follow_redirects() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"Location": "http://127.0.0.1/"})

    transport = httpx.MockTransport(handler)
    with httpx.Client(transport=transport, follow_redirects=True) as client, pytest.raises(PermanentError):
        post(client, URL, b'{"a": 1}', {"X-Test": "1"}, timeout=1.0)
    assert len(seen) == 1
    assert seen[0].content == b'{"a": 1}' and seen[0].headers["x-test"] == "1"


# --------------------------------------------------------------------------- wiring


def test_build_sinks_names_and_enabled() -> None:
    s = settings(
        [
            {"type": "webhook", "url": URL, "secret": SECRET},
            {"type": "webhook"},  # no url: disabled (e.g. "${SLACK_URL:-}" left empty)
            {"type": "console"},
        ]
    )
    sinks = build_sinks(s.alerts)
    assert [x.name for x in sinks] == ["0:webhook", "2:console"]
    assert isinstance(sinks[0], WebhookSink) and isinstance(sinks[1], ConsoleSink)


def test_build_sinks_console_stream() -> None:
    out = io.StringIO()
    (sink,) = build_sinks(settings([{"type": "console"}]).alerts, stream=out)
    with httpx.Client() as client:
        sink.send(sample_alert(), client)
    assert out.getvalue().startswith("[belgorod-raids]")


def test_build_sinks_unknown_type_is_a_config_error() -> None:
    base = settings([])
    odd = base.model_copy(update={"alerts": [AlertSettings.model_construct(type="pigeon", url=URL)]})
    with pytest.raises(ConfigError, match=r"alerts\[0\]\.type"):
        build_sinks(odd.alerts)


def test_sinks_for_respects_watches() -> None:
    s = settings([{"type": "console"}, {"type": "console", "watches": ["w2"]}, {"type": "console", "watches": ["w1"]}])
    sinks = build_sinks(s.alerts)
    assert [x.name for x in sinks_for(sinks, "w1")] == ["0:console", "2:console"]
    assert [x.name for x in sinks_for(sinks, "w2")] == ["0:console", "1:console"]


def test_readme_verification_example_accepts_our_headers_and_rejects_replays() -> None:
    import re as _re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    code = _re.search(r"```python\n(import hashlib, hmac, time.*?)```", readme, _re.S)
    assert code, "README: the webhook verification example is missing"
    scope: dict[str, object] = {}
    exec(code.group(1), scope)  # noqa: S102 (our own README)
    verify = scope["verify"]
    alert = sample_alert()
    body = encode(alert.payload())
    now = int(time.time())
    fresh = headers(alert, body, secret=SECRET, user_agent="ua", timestamp=now)
    assert verify(SECRET.encode(), body, fresh)  # type: ignore[operator]
    assert not verify(SECRET.encode(), body + b" ", fresh)  # type: ignore[operator]
    stale = headers(alert, body, secret=SECRET, user_agent="ua", timestamp=now - 3600)
    assert not verify(SECRET.encode(), body, stale)  # type: ignore[operator]
    forged = dict(stale, **{"X-Claimwatch-Timestamp": str(now)})  # a replay with a fresh time
    assert not verify(SECRET.encode(), body, forged)  # type: ignore[operator]
