"""Digests without I/O: one golden rendering per sink, days in the digest's zone, escaping and
mentions, every service's limits, the webhook's digest body, and building a digest from its batch."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from typing import Any

from test_sinks import check_golden, sample_alert, settings  # noqa: I001 (tests/unit is on sys.path under pytest)
from test_sinks_chat import EVIL, _Tags, all_texts, dump

from monitor.digests import build, digest_id, digest_sinks
from monitor.models import Claim, Digest, Known, items_of, message_from_dict
from workers.sinks import apprise_sink, console, discord, sample_digest, send_sample, slack, teams, telegram
from workers.sinks.webhook import WebhookSink


def second_alert(**changes: Any) -> Any:
    fields: dict[str, Any] = dict(
        id="b2c3d4e5f6071829", article_url="https://other.example/2023/05/24/drones",
        article_title="Drones downed over Belgorod overnight", article_source="Other Wire",
        article_published="2023-05-24T06:30:00+00:00", detected_at="2023-05-24T06:31:02+00:00",
        claims=(Claim("Three drones were shot down over Belgorod on Wednesday night, the governor said.",
                      "Vyacheslav Gladkov", Known("A drone struck an administrative building.", 0.41)),))
    return sample_alert(**(fields | changes))


def sample(**changes: Any) -> Digest:
    items = [*items_of(sample_alert()), *items_of(second_alert())]
    items[0] = dataclasses.replace(items[0], corroboration=3)
    items[1] = dataclasses.replace(items[1], corroboration=0)
    fields: dict[str, Any] = dict(id="digest-5e1f0a9b3c2d4e6f", watch="belgorod-raids",
                                  since="2023-05-23T05:00:00+00:00", until="2023-05-24T05:00:00+00:00",
                                  items=tuple(items), timezone="Europe/Moscow")
    return Digest(**(fields | changes))


def evil() -> Digest:
    a = sample_alert(article_title=f"Title {EVIL}", article_source=f"Outlet {EVIL}",
                     claims=(Claim(f"Claim {EVIL}", f"Attrib {EVIL}", None),))
    return sample(items=tuple(items_of(a)))


def big(n: int = 300) -> Digest:
    items = []
    for i in range(n):
        a = sample_alert(id=f"a{i}", article_published=f"2023-05-{10 + i % 20:02d}T10:00:00+00:00",
                         claims=(Claim(f"claim {i} " + "word " * 200, "someone"),))
        items += items_of(a)
    return sample(items=tuple(items))


# --------------------------------------------------------------------------- golden


def test_digest_goldens() -> None:
    d = sample()
    check_golden("digest_console.txt", console.render_digest_text(d))
    check_golden("digest_webhook.json", dump(WebhookSink("0:webhook", "https://x.example/h").render(d)))
    check_golden("digest_slack.json", dump(slack.render_slack_digest(d)))
    check_golden("digest_mattermost.json", dump(slack.render_mattermost_digest(d)))
    check_golden("digest_discord.json", dump(discord.render_digest(d)))
    check_golden("digest_teams.json", dump(teams.render_digest(d)))
    check_golden("digest_telegram.json", dump(telegram.render(d, "-1001234567890")))
    check_golden("digest_apprise.json", dump(apprise_sink.render(d)))
    check_golden("apprise.json", dump(apprise_sink.render(sample_alert())))


def test_grouped_by_event_day_in_the_digest_zone() -> None:
    assert [day for day, _ in sample().days()] == ["2023-05-23", "2023-05-24"]
    # 06:30 UTC on the 24th is still the 23rd in Los Angeles: both articles fall on one day there
    assert [day for day, _ in sample(timezone="America/Los_Angeles").days()] == ["2023-05-23"]
    text = console.render_digest_text(sample())
    assert text.index("Tue 23 May 2023") < text.index("Two villages") < text.index("Wed 24 May 2023") < text.index(
        "Three drones")
    assert "3 claims from 2 articles · 2023-05-23 08:00 – 2023-05-24 08:00 MSK" in text


def test_every_claim_has_its_first_source_and_corroboration() -> None:
    payload = sample().payload()
    assert set(payload) == {"type", "id", "watch", "since", "until", "days"}
    claims = [c for day in payload["days"] for c in day["claims"]]
    assert [c["corroboration"] for c in claims] == [3, 0, None]
    assert claims[2]["first_source"] == {"url": "https://other.example/2023/05/24/drones",
                                         "title": "Drones downed over Belgorod overnight", "source": "Other Wire",
                                         "published": "2023-05-24T06:30:00+00:00", "alert_id": "b2c3d4e5f6071829"}
    text = slack.render_mattermost_digest(sample())["text"]
    assert "repeated by 3 later articles" in text and "not repeated yet" in text
    assert text.count("repeated") == 2  # unknown (None) says nothing


def test_round_trip_and_dispatch() -> None:
    d = sample()  # (similarities travel rounded to 3 places, as an alert's do)
    back = message_from_dict(json.loads(json.dumps(d.to_dict())))
    assert isinstance(back, Digest) and back.to_dict() == d.to_dict() and back.items[0].corroboration == 3
    assert message_from_dict(sample_alert().to_dict()).to_dict() == sample_alert().to_dict()


# --------------------------------------------------------------------------- escaping


def test_digest_escaping_and_mentions() -> None:
    d = evil()
    mm = slack.render_mattermost_digest(d)["text"]
    assert not re.search(r"@(everyone|here|all|channel|U123)\b", mm) and "<" not in mm
    sl = json.dumps(slack.render_slack_digest(d)["blocks"], ensure_ascii=False)
    assert "<!channel>" not in sl and "&lt;!channel&gt;" in sl and "<http://evil" not in sl
    dc = discord.render_digest(d)
    assert dc["allowed_mentions"] == {"parse": []} and "@\u200beveryone" in dc["embeds"][0]["description"]
    assert "\\[x\\](http" in dc["embeds"][0]["description"]
    tm = [t for t in all_texts(teams.render_digest(d)) if t.startswith("• Claim")][0]
    assert "\\[x\\](http" in tm and "\\*star\\*" in tm
    tg = telegram.render_digest_text(d)
    parser = _Tags()
    parser.feed(tg)
    assert set(parser.tags) <= {"b", "i", "a"} and parser.tags.count("a") == 1 and "<b>bold</b>" in parser.text
    ap = apprise_sink.render(d)["body"]
    assert "@\u200beveryone" in ap and "\\[x\\](http" in ap and "<b>" not in ap


def test_control_characters_removed_and_bad_links_not_linked() -> None:
    a = sample_alert(article_url="javascript:alert(1)", claims=(Claim("one\n\n<b>two</b>\x1b[31m\u202e"),))
    d = sample(items=tuple(items_of(a)))
    for payload in (slack.render_slack_digest(d), discord.render_digest(d), teams.render_digest(d),
                    telegram.render(d, "1"), apprise_sink.render(d), console.render_digest_text(d)):
        blob = json.dumps(payload, ensure_ascii=False)
        assert "\x1b" not in blob and "\u202e" not in blob and "one\\n" not in blob
        assert "](javascript" not in blob and 'href="javascript' not in blob and "<javascript" not in blob


# --------------------------------------------------------------------------- limits


def test_limits_of_every_service() -> None:
    d = big()
    payload = slack.render_slack_digest(d)
    assert len(payload["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in payload["blocks"] if b["type"] == "section")
    assert re.search(r"\+\d+ more claims", payload["blocks"][-1]["elements"][0]["text"])
    assert len(slack.render_mattermost_digest(d)["text"]) <= 16_383
    embed = discord.render_digest(d)["embeds"][0]
    assert len(embed["description"]) <= 4096 and len(embed["title"]) <= 256
    assert sum(len(x) for x in (embed["title"], embed["description"], embed["footer"]["text"],
                                embed["author"]["name"])) <= 6000
    assert re.search(r"\+\d+ more claims$", embed["description"])
    assert len(json.dumps(teams.render_digest(d)).encode()) <= 28_000
    tg = telegram.render_digest_text(d)
    assert telegram.visible_length(tg) <= 4096 and re.search(r"\+\d+ more claims", tg)
    assert len(apprise_sink.render(d)["body"]) <= apprise_sink.BUDGET + 500
    # the webhook carries everything
    assert sum(len(day["claims"]) for day in WebhookSink("0:webhook", "https://x").render(d)["days"]) == 300


def test_a_cut_never_leaves_a_day_heading_without_its_claims() -> None:
    text = telegram.render_digest_text(big())
    lines = text.split("\n")
    for k, line in enumerate(lines):
        if re.fullmatch(r"<b>\w{3} \d\d \w{3} 2023</b>", line):
            assert lines[k + 1].startswith("• claim")


# --------------------------------------------------------------------------- building


def test_build_from_a_batch() -> None:
    alerts = [second_alert().to_dict(), sample_alert().to_dict()]
    meta = {"sink": "0:slack", "watch": "belgorod-raids", "since": "", "until": "1684904400"}
    d = build("digest-x", meta, alerts, timezone="UTC")
    assert d.since is None and d.until == "2023-05-24T05:00:00+00:00" and d.watch == "belgorod-raids"
    assert [i.alert_id for i in d.items] == [sample_alert().id, sample_alert().id, second_alert().id]
    assert all(i.corroboration is None for i in d.items)  # nothing records repeats yet: not made up
    counted = build("digest-x", meta, alerts, corroboration=lambda watch, item: len(item.claim.text) % 5)
    assert [i.corroboration for i in counted.items] == [len(i.claim.text) % 5 for i in d.items]


def test_digest_ids_and_sinks() -> None:
    assert digest_id("0:slack", "w1", 3600.0) == digest_id("0:slack", "w1", 3600.4) != digest_id("0:slack", "w1", 7200)
    s = settings([{"type": "console"}, {"type": "console", "mode": "digest", "every": "1h", "watches": ["w2"]},
                  {"type": "slack", "url": "", "mode": "digest", "at": "08:00"},
                  {"type": "webhook", "url": "https://x.example/h", "mode": "digest", "at": "0 8 * * 1-5",
                   "timezone": "Europe/Berlin", "min_claims": 3}])
    sinks = digest_sinks(s)
    assert [(x.name, x.watches, x.min_claims) for x in sinks] == [("1:console", ("w2",), 1),
                                                                 ("3:webhook", ("w1", "w2"), 3)]
    assert sinks[1].cadence.cron == "0 8 * * 1-5" and sinks[1].cadence.timezone == "Europe/Berlin"


def test_sample_digest_for_test_alert() -> None:
    d = sample_digest(sample_alert(id="test-20230523T100417"), "Europe/Berlin")
    assert d.id == "test-digest-20230523T100417" and len(d.items) == 2 and d.timezone == "Europe/Berlin"


def test_test_alert_sends_a_sample_digest_to_a_digest_sink() -> None:
    s = settings([{"type": "console"}, {"type": "console", "mode": "digest", "every": "1h"}])
    out = io.StringIO()
    assert send_sample(s.alerts, "w1", None, None, out) == 0  # type: ignore[arg-type]  (no HTTP for a console)
    text = out.getvalue()
    assert "[w1] new claims" in text and "[w1] digest · 2 claims from 1 article" in text
    assert "0:console: sent (alert test-" in text and "1:console: sent (alert test-digest-" in text
