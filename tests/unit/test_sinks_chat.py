"""Chat sinks without I/O: golden payloads, escaping and mention injection, size limits, settings."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from test_sinks import check_golden, settings  # noqa: I001 (tests/unit is on sys.path under pytest)
from test_sinks import sample_alert as base_alert

from monitor.errors import ConfigError
from monitor.models import Alert, Claim, Known
from monitor.settings import TELEGRAM_API, from_dict
from workers.sinks import build_sinks, discord, matches, sample_alert, slack, teams, telegram
from workers.sinks.base import Sink, rate_of, target_key
from workers.sinks.fmt import CLAIM_MAX, fit, more

HOOK = "https://hooks.slack.com/services/T0/B0/s3cr3t-token"
TOKEN = "123456:AAsecret-bot-token"
EVIL = ("@everyone <!channel> <!here|here> <@U123> @here @all @channel <b>bold</b> *star* _under_ "
        "[x](http://evil.example) &amp; `code` # head")


def dump(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"


def evil_alert() -> Alert:
    return base_alert(
        article_title=f"Title {EVIL}",
        article_source=f"Outlet {EVIL}",
        claims=(Claim(f"Claim {EVIL}", f"Attrib {EVIL}", Known(f"Known {EVIL}", 0.2)),),
    )


def big_alert(n: int = 60, size: int = 2_000) -> Alert:
    claims = [Claim("A" * 10_000 + " end", "someone", Known("k" * 5_000, 0.1))]
    claims += [Claim(f"claim {i} " + "word " * (size // 5), None, None) for i in range(n)]
    return base_alert(claims=tuple(claims))


def all_texts(payload: Any) -> list[str]:
    if isinstance(payload, str):
        return [payload]
    if isinstance(payload, dict):
        return [t for v in payload.values() for t in all_texts(v)]
    if isinstance(payload, list):
        return [t for v in payload for t in all_texts(v)]
    return []


# --------------------------------------------------------------------------- golden payloads


def test_slack_golden() -> None:
    check_golden("slack.json", dump(slack.render_slack(base_alert())))


def test_mattermost_golden() -> None:
    check_golden("mattermost.json", dump(slack.render_mattermost(base_alert())))


def test_discord_golden() -> None:
    check_golden("discord.json", dump(discord.render(base_alert())))


def test_teams_golden() -> None:
    check_golden("teams.json", dump(teams.render(base_alert())))


def test_telegram_golden() -> None:
    check_golden("telegram.json", dump(telegram.render(base_alert(), "-1001234567890")))


def test_every_message_says_watch_headline_outlet_time_claims_why_link() -> None:
    a = base_alert()
    for payload in (slack.render_slack(a), slack.render_mattermost(a), discord.render(a), teams.render(a),
                    telegram.render(a, "42")):
        text = "\n".join(all_texts(payload))
        for part in ("belgorod", "Shebekino", "Example News", "2023-05-23 10:00 UTC", "Vyacheslav Gladkov",
                     "Kozinka", "31%", a.article_url, a.id, "administrative building"):
            assert part in text, (part, payload)


# --------------------------------------------------------------------------- escaping and mentions


def test_slack_escapes_and_cannot_ping() -> None:
    payload = slack.render_slack(evil_alert())
    for text in all_texts(payload):
        assert "<!" not in text and "<@" not in text and "<b>" not in text
        assert not re.search(r"<(?!https://news\.example\.org/2023/05/23/raid-update\|)", text)
    assert "&lt;!channel&gt;" in json.dumps(payload)
    assert "&amp;amp;" in json.dumps(payload)  # an entity in the article stays literal text
    assert all(b["text"]["verbatim"] for b in payload["blocks"] if b["type"] == "section")
    assert "link_names" not in payload


def test_mattermost_neutralises_channel_mentions() -> None:
    text = slack.render_mattermost(evil_alert())["text"]
    assert not re.search(r"@(everyone|here|all|channel|U123)\b", text)
    assert "@\u200beveryone" in text and "@\u200bchannel" in text
    assert "<" not in text and ">" not in text  # no Slack-style <!channel>, no HTML
    assert "\\[x\\](http" in text and "\\*star\\*" in text


def test_discord_never_parses_mentions() -> None:
    payload = discord.render(evil_alert())
    assert payload["allowed_mentions"] == {"parse": []}
    desc = payload["embeds"][0]["description"]
    assert "\\<@\u200bU123\\>" in desc and "@\u200beveryone" in desc
    assert "\\[x\\](http" in desc and "\\*star\\*" in desc
    assert "content" not in payload
    assert discord.render(base_alert(claims=()))["allowed_mentions"] == {"parse": []}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text += data


def test_telegram_html_is_escaped() -> None:
    text = telegram.render_text(evil_alert())
    parser = _Tags()
    parser.feed(text)
    assert set(parser.tags) <= {"b", "i", "a"}
    assert parser.tags.count("a") == 1  # only our own link
    assert "<b>bold</b>" in parser.text  # the article's tag, shown as text
    assert "&lt;b&gt;bold&lt;/b&gt;" in text
    odd = telegram.render_text(base_alert(article_url='https://x.example/a?b="c"&d=<e>'))
    assert '<a href="https://x.example/a?b=&quot;c&quot;&amp;d=&lt;e&gt;">' in odd


def test_teams_escapes_markdown() -> None:
    payload = teams.render(evil_alert())
    texts = all_texts(payload["attachments"][0]["content"]["body"])
    claim = next(t for t in texts if t.startswith("• Claim"))
    assert "\\[x\\](http" in claim and "\\*star\\*" in claim and "\\_under\\_" in claim
    assert "msteams" in payload["attachments"][0]["content"] and "entities" not in json.dumps(payload)


def test_control_characters_and_fake_lines_are_removed() -> None:
    a = base_alert(claims=(Claim("one\n\n<b>two</b>\x1b[31m\u202e", None, None),))
    for payload in (slack.render_slack(a), discord.render(a), teams.render(a), telegram.render(a, "1")):
        blob = json.dumps(payload, ensure_ascii=False)
        assert "\x1b" not in blob and "\u202e" not in blob
    assert "• one &lt;b&gt;two&lt;/b&gt;" in telegram.render_text(a)


def test_non_http_links_are_not_linked() -> None:
    a = base_alert(article_url="javascript:alert(1)")
    assert "url" not in discord.render(a)["embeds"][0]
    assert "<a " not in telegram.render_text(a)
    assert "actions" not in teams.render(a)["attachments"][0]["content"]
    assert "javascript" not in json.dumps(slack.render_slack(a)["blocks"][1])


# --------------------------------------------------------------------------- limits


def test_slack_limits() -> None:
    payload = slack.render_slack(big_alert())
    blocks = payload["blocks"]
    assert len(blocks) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    assert len(blocks[0]["text"]["text"]) <= 150 and len(payload["text"]) <= 3000
    first = blocks[2]["text"]["text"]
    assert "A" * 100 in first and "…" in first and " end" not in first
    assert re.search(r"\+\d+ more claims", blocks[-1]["elements"][0]["text"])
    many = slack.render_slack(base_alert(claims=tuple(Claim(f"short claim {i}") for i in range(100))))
    assert len(many["blocks"]) == 50 and "+53 more claims" in many["blocks"][-1]["elements"][0]["text"]


def test_mattermost_limit() -> None:
    text = slack.render_mattermost(big_alert())["text"]
    assert len(text) <= 16_383 and re.search(r"\+\d+ more claims", text)


def test_discord_limits() -> None:
    embed = discord.render(big_alert())["embeds"][0]
    assert len(embed["description"]) <= 4096 and len(embed["title"]) <= 256
    parts = (embed["title"], embed["description"], embed["footer"]["text"], embed["author"]["name"])
    total = sum(len(p) for p in parts)
    assert total <= 6000
    assert re.search(r"\+\d+ more claims$", embed["description"])
    long_title = discord.render(base_alert(article_title="T" * 1000))["embeds"][0]
    assert len(long_title["title"]) <= 256


def test_telegram_limit_counts_visible_text() -> None:
    text = telegram.render_text(big_alert())
    assert telegram.visible_length(text) <= 4096
    assert re.search(r"\+\d+ more claims", text)
    emoji = telegram.render_text(base_alert(claims=tuple(Claim("😀" * 600) for _ in range(20))))
    assert telegram.visible_length(emoji) <= 4096  # astral characters count twice (UTF-16)
    assert telegram.visible_length("<b>a &amp; b</b>") == 5


def test_teams_limit() -> None:
    payload = teams.render(big_alert(n=200))
    assert len(json.dumps(payload).encode()) <= 28_000
    assert re.search(r"\+\d+ more claims", json.dumps(payload))


def test_a_10000_character_claim_is_shortened_everywhere() -> None:
    a = base_alert(claims=(Claim("B" * 10_000),))
    for payload in (slack.render_slack(a), slack.render_mattermost(a), discord.render(a), teams.render(a),
                    telegram.render(a, "1")):
        blob = json.dumps(payload, ensure_ascii=False)
        assert "B" * (CLAIM_MAX - 1) in blob and "B" * (CLAIM_MAX + 1) not in blob and "…" in blob
        assert "more claim" not in blob  # one claim, shortened, is still shown


def test_fit() -> None:
    assert fit(["aa", "bb"], 10) == (["aa", "bb"], "")
    kept, tail = fit(["a" * 5] * 10, 20)
    assert tail == "+9 more claims" and len("".join(kept)) + len(tail) <= 20
    assert fit(["x"] * 5, 100, max_items=2) == (["x", "x"], "+3 more claims")
    assert fit(["x" * 50], 10) == ([], "+1 more claim")
    assert more(1) == "+1 more claim" and more(2) == "+2 more claims"


# --------------------------------------------------------------------------- wiring and settings


def chat_settings() -> Any:
    return settings([
        {"type": "slack", "url": HOOK},
        {"type": "mattermost", "url": "https://mm.example/hooks/abc"},
        {"type": "discord", "url": "https://discord.com/api/webhooks/1/tok"},
        {"type": "teams", "url": "https://prod.westeurope.logic.azure.com/workflows/x?sig=sec"},
        {"type": "telegram", "token": TOKEN, "chat_id": -1001234567890},
        {"type": "telegram", "token": "", "chat_id": ""},  # "${TELEGRAM_TOKEN:-}" unset: skipped
        {"type": "slack", "url": "", "rate": 0},
    ])


def test_build_sinks_every_type() -> None:
    sinks = build_sinks(chat_settings().alerts)
    assert [s.name for s in sinks] == ["0:slack", "1:mattermost", "2:discord", "3:teams", "4:telegram"]
    for s in sinks:
        assert isinstance(s, Sink)
        text = repr(s) + str(s) + str(rate_of(s))
        assert "s3cr3t" not in text and "secret" not in text and "sig=" not in text and "tok" not in text


def test_rate_defaults_and_keys() -> None:
    slack_sink, mm, disc, team, tg = build_sinks(chat_settings().alerts)
    assert rate_of(slack_sink)[1] == 1.0 and rate_of(tg)[1] == 1.0 and rate_of(team)[1] == 0.25
    assert rate_of(disc)[1] == 2.0
    assert rate_of(slack_sink)[0] == target_key("slack", HOOK) and HOOK not in rate_of(slack_sink)[0]
    assert rate_of(tg)[0] == target_key("telegram", TELEGRAM_API, TOKEN, "-1001234567890")
    assert tg._url == f"{TELEGRAM_API}/bot{TOKEN}/sendMessage"  # noqa: SLF001
    s = settings([{"type": "slack", "url": HOOK, "rate": 0}, {"type": "webhook", "url": HOOK}])
    assert [rate_of(x) for x in build_sinks(s.alerts)] == [(None, 0.0), (None, 0.0)]


def test_telegram_api_url_is_settable() -> None:
    s = settings([{"type": "telegram", "token": TOKEN, "chat_id": "@mychannel", "api_url": "http://bot-api.local:8081/"}])
    (tg,) = build_sinks(s.alerts)
    assert tg._url == f"http://bot-api.local:8081/bot{TOKEN}/sendMessage"  # noqa: SLF001
    assert tg.render(base_alert())["chat_id"] == "@mychannel"


@pytest.mark.parametrize(
    ("alert", "message"),
    [
        ({"type": "slack"}, "alerts[0].url: required for a slack sink"),
        ({"type": "discord", "url": "ftp://x"}, "alerts[0].url: not an http(s) URL"),
        ({"type": "telegram", "chat_id": "1"}, "alerts[0].token: required for a telegram sink"),
        ({"type": "telegram", "token": TOKEN}, "alerts[0].chat_id: required for a telegram sink"),
        ({"type": "telegram", "token": "nope", "chat_id": "1"}, "alerts[0].token: not a Telegram bot token"),
        ({"type": "telegram", "token": TOKEN, "chat_id": "x y"}, "alerts[0].chat_id: not a Telegram chat id"),
        ({"type": "telegram", "token": TOKEN, "chat_id": "1", "url": HOOK}, "alerts[0].url: not used by a telegram"),
        ({"type": "telegram", "token": TOKEN, "chat_id": "1", "api_url": "file:///x"}, "alerts[0].api_url: not an"),
        ({"type": "slack", "url": HOOK, "token": TOKEN}, "alerts[0].token: not used by a slack sink"),
        ({"type": "slack", "url": HOOK, "secret": "k"}, "alerts[0]: secret: not used by a slack sink"),
        ({"type": "teams", "url": HOOK, "rate": -1}, "alerts[0].rate:"),
    ],
)
def test_alert_settings_validation(alert: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        from_dict({"watches": [{"name": "w", "keywords": ["x"]}], "alerts": [alert]}, env={})
    assert str(info.value).startswith(message)
    assert TOKEN not in str(info.value) and "s3cr3t" not in str(info.value)


def test_matches_and_sample_alert() -> None:
    assert matches("0:slack", None) and matches("0:slack", "0") and matches("0:slack", "slack")
    assert matches("0:slack", "0:slack") and not matches("0:slack", "1") and not matches("0:slack", "discord")
    a = sample_alert("w1")
    assert a.id.startswith("test-") and a.watch == "w1" and a.claims
