"""monitor.settings (layered TOML, ${ENV}, errors that name the key) and monitor.models JSON round trips."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.models import Alert, Article, Claim, Entry, Feed, Known
from monitor.settings import Settings, from_dict, load, merge

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config" / "claimwatch.toml"

BASE = """
[service]
poll_interval = 60
log_level = "INFO"
http_port = 8787

[network]
timeout = 5

[[watches]]
name = "raids"
keywords = ["Belgorod*"]

[watches.novelty]
min_words = 6
relevance = 0.25

[[feeds]]
url = "https://a.example/rss"
name = "A"

[[feeds]]
url = "https://b.example/rss"
name = "B"

[[alerts]]
type = "console"
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as e:
        load([write(tmp_path / "bad.toml", text)], env=env or {})
    return str(e.value)


# --------------------------------------------------------------------------- layering


def test_later_file_wins_tables_merge_key_by_key_arrays_replaced(tmp_path: Path) -> None:
    base = write(tmp_path / "base.toml", BASE)
    top = write(tmp_path / "top.toml", """
[service]
poll_interval = 1

[[feeds]]
url = "http://127.0.0.1:9/feed.xml"
name = "local"
""")
    s = load([base, top], env={})
    assert s.service.poll_interval == 1  # later wins
    assert s.service.log_level == "INFO" and s.service.http_port == 8787  # untouched keys stay
    assert s.network.timeout == 5
    assert [(f.url, f.name) for f in s.feeds] == [("http://127.0.0.1:9/feed.xml", "local")]  # replaced whole
    assert [a.type for a in s.alerts] == ["console"]  # not named by the top file: kept


def test_watches_are_replaced_whole(tmp_path: Path) -> None:
    base = write(tmp_path / "base.toml", BASE)
    top = write(tmp_path / "top.toml", """
[[watches]]
name = "other"
keywords = ["Kursk*"]
""")
    s = load([base, top], env={})
    assert [w.name for w in s.watches] == ["other"]
    assert s.watches[0].novelty.min_words == 6  # the default, not the base's table (the array was replaced)


def test_merge_is_recursive_and_does_not_mutate() -> None:
    base = {"a": {"x": 1, "y": {"p": 1, "q": 2}}, "list": [1, 2], "keep": True}
    top = {"a": {"y": {"q": 3}}, "list": [3]}
    out = merge(base, top)
    assert out == {"a": {"x": 1, "y": {"p": 1, "q": 3}}, "list": [3], "keep": True}
    assert base == {"a": {"x": 1, "y": {"p": 1, "q": 2}}, "list": [1, 2], "keep": True}


def test_no_config_file() -> None:
    with pytest.raises(ConfigError, match="no --config"):
        load([], env={})


def test_unreadable_and_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load([tmp_path / "missing.toml"], env={})
    assert "not valid TOML" in error(tmp_path, "[service\nx = 1")


# --------------------------------------------------------------------------- environment


def test_env_substitution(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.toml", BASE + """
[[alerts]]
type = "webhook"
url = "https://${HOOK_HOST}/hooks/${HOOK_PATH:-default-path}"
secret = "${HOOK_SECRET:-}"
""")
    s = load([cfg], env={"HOOK_HOST": "chat.example"})
    assert s.alerts[1].url == "https://chat.example/hooks/default-path"
    assert s.alerts[1].secret == ""
    s = load([cfg], env={"HOOK_HOST": "chat.example", "HOOK_PATH": "p1", "HOOK_SECRET": "s3cret"})
    assert s.alerts[1].url == "https://chat.example/hooks/p1"
    assert s.alerts[1].secret == "s3cret"


def test_env_set_but_empty_is_used_not_the_default(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.toml", BASE.replace('log_level = "INFO"', 'log_level = "${LEVEL:-WARNING}"'))
    assert load([cfg], env={}).service.log_level == "WARNING"
    assert load([cfg], env={"LEVEL": "ERROR"}).service.log_level == "ERROR"


def test_env_comes_from_os_environ_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write(tmp_path / "c.toml", BASE.replace('log_level = "INFO"', 'log_level = "${CW_TEST_LEVEL}"'))
    monkeypatch.setenv("CW_TEST_LEVEL", "DEBUG")
    assert load([cfg]).service.log_level == "DEBUG"


def test_missing_env_var_names_the_key(tmp_path: Path) -> None:
    msg = error(tmp_path, BASE + '\n[[alerts]]\ntype = "webhook"\nurl = "${NO_SUCH_HOOK}"\n')
    assert msg == "alerts[1].url: environment variable NO_SUCH_HOOK is not set"
    msg = error(tmp_path, BASE.replace('log_level = "INFO"', 'log_level = "${NOPE}"'))
    assert msg.startswith("service.log_level:") and "NOPE" in msg


# --------------------------------------------------------------------------- validation errors


def test_bad_feed_url_names_the_index(tmp_path: Path) -> None:
    msg = error(tmp_path, BASE.replace("https://b.example/rss", "ftp://b.example/rss"))
    assert msg == "feeds[1].url: not an http(s) URL"
    msg = error(tmp_path, BASE.replace("https://a.example/rss", "not a url"))
    assert msg == "feeds[0].url: not an http(s) URL"


def test_bad_webhook_url(tmp_path: Path) -> None:
    msg = error(tmp_path, BASE + '\n[[alerts]]\ntype = "webhook"\nurl = "file:///etc/passwd"\n')
    assert msg.startswith("alerts[1]") and "not an http(s) URL" in msg


def test_unknown_keys_are_named(tmp_path: Path) -> None:
    assert error(tmp_path, BASE.replace("[network]", "[network]\ntimout = 3")) == "network.timout: unknown key"
    assert error(tmp_path, "bogus = 1\n" + BASE) == "bogus: unknown key"
    assert error(tmp_path, BASE.replace("min_words = 6", "min_word = 6")) == "watches[0].novelty.min_word: unknown key"


def test_other_validation_errors_name_the_key(tmp_path: Path) -> None:
    assert error(tmp_path, BASE.replace("poll_interval = 60", "poll_interval = -1")).startswith(
        "service.poll_interval:")
    assert error(tmp_path, BASE.replace('log_level = "INFO"', 'log_level = "LOUD"')).startswith("service.log_level:")
    assert error(tmp_path, BASE.replace('keywords = ["Belgorod*"]', "")) == "watches[0].keywords: required"
    assert error(tmp_path, BASE.replace('name = "raids"', 'name = "Not A Valid Name"')).startswith("watches[0].name:")
    msg = error(tmp_path, BASE + '\n[[alerts]]\ntype = "pager"\n')
    assert msg.startswith("alerts[1].type:")
    msg = error(tmp_path, BASE.replace('name = "B"', 'name = "B"\nwatches = ["nope"]'))
    assert msg.endswith("feeds[1].watches: no watch named 'nope'")


def test_redis_url(tmp_path: Path) -> None:
    raw = {"watches": [{"name": "w", "keywords": ["x"]}]}
    assert from_dict({**raw, "service": {"redis_url": ""}}, env={}).service.redis_url is None
    assert from_dict({**raw, "service": {"redis_url": "redis://h:6379/0"}}, env={}).service.redis_url == \
        "redis://h:6379/0"
    with pytest.raises(ConfigError, match=r"^service\.redis_url: not a redis://"):
        from_dict({**raw, "service": {"redis_url": "http://h:6379"}}, env={})


def test_at_least_one_watch(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="^watches:"):
        from_dict({"watches": []}, env={})
    with pytest.raises(ConfigError, match="^watches: required"):
        from_dict({}, env={})


# --------------------------------------------------------------------------- seed paths


def test_seed_resolved_relative_to_the_config_file(tmp_path: Path) -> None:
    write(tmp_path / "conf" / "seeds" / "story.txt", "Seed text.")
    cfg = write(tmp_path / "conf" / "c.toml", BASE.replace('keywords = ["Belgorod*"]',
                                                           'keywords = ["Belgorod*"]\nseed = ["seeds/story.txt"]'))
    s = load([cfg], env={})
    assert s.watches[0].seed == [(tmp_path / "conf" / "seeds" / "story.txt").resolve()]
    assert s.watches[0].seed[0].is_absolute()


def test_seed_of_a_later_file_is_relative_to_that_file(tmp_path: Path) -> None:
    write(tmp_path / "other" / "s2.txt", "Another seed.")
    base = write(tmp_path / "conf" / "c.toml", BASE)
    top = write(tmp_path / "other" / "top.toml", '[[watches]]\nname = "w2"\nkeywords = ["x"]\nseed = ["s2.txt"]\n')
    s = load([base, top], env={})
    assert s.watches[0].seed == [(tmp_path / "other" / "s2.txt").resolve()]


def test_missing_seed_file(tmp_path: Path) -> None:
    msg = error(tmp_path, BASE.replace('keywords = ["Belgorod*"]', 'keywords = ["Belgorod*"]\nseed = ["nope.txt"]'))
    assert msg.startswith("watches[0].seed: seed file not found:")
    assert str((tmp_path / "nope.txt").resolve()) in msg


# --------------------------------------------------------------------------- checked before anything starts


@pytest.mark.parametrize(("keyword", "why"), [
    ("(dam AND", "expected a term, got the end"),
    ("(" * 1000 + "dam" + ")" * 1000, "nested more than 32 deep"),
    ("NOT " * 1000 + "dam", "nested more than 32 deep"),
    ("Belgorod.*", "looks like a regular expression ('.*')"),
    ("Belgorod|Kursk", "looks like a regular expression ('|')"),
    ("(?i)belgorod", "looks like a regular expression ('(?')"),
    (r"\bBelgorod\b", "looks like a regular expression ('\\\\b')"),
    ("^Belgorod", "looks like a regular expression ('^')"),
    ("*gorod", "a * ends a word"),
    ("Bel*grad", "a * ends a word"),
])
def test_a_bad_keyword_is_a_config_error_naming_its_key(tmp_path: Path, keyword: str, why: str) -> None:
    toml_keyword = keyword.replace("\\", "\\\\")
    msg = error(tmp_path, BASE.replace('keywords = ["Belgorod*"]', f'keywords = ["Belgorod*", \'{toml_keyword}\']'))
    assert msg.startswith("watches[0].keywords[1]: bad expression "), msg
    assert why in msg, msg
    assert "\n" not in msg


def test_a_bad_exclude_is_a_config_error_naming_its_key(tmp_path: Path) -> None:
    msg = error(tmp_path, BASE.replace('keywords = ["Belgorod*"]', 'keywords = ["Belgorod*"]\nexclude = ["x", "(y"]'))
    assert msg == "watches[0].exclude[1]: bad expression '(y': missing )"


def test_seed_over_max_seed_bytes_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path / "big.txt", "Seed sentence number one. " * 4000)  # 104,000 bytes
    write(tmp_path / "small.txt", "Seed.")
    seeded = BASE.replace('keywords = ["Belgorod*"]', 'keywords = ["Belgorod*"]\nseed = ["big.txt", "small.txt"]')
    assert load([write(tmp_path / "ok.toml", seeded)], env={}).watches[0].max_seed_bytes == 2_000_000
    msg = error(tmp_path, seeded.replace("seed = [", "max_seed_bytes = 100_000\nseed = ["))
    assert msg.startswith("watches[0].max_seed_bytes: the seed files hold 104,005 bytes, over this limit of 100,000")
    ok = load([write(tmp_path / "ok2.toml", seeded.replace("seed = [", "max_seed_bytes = 104_005\nseed = ["))], env={})
    assert ok.watches[0].max_seed_bytes == 104_005


def test_the_same_feed_url_twice_is_one_feed_for_both_watches(tmp_path: Path) -> None:
    two = BASE.replace('[[feeds]]\nurl = "https://a.example/rss"\nname = "A"\n', """
[[watches]]
name = "kursk"
keywords = ["Kursk"]

[[watches]]
name = "orel"
keywords = ["Orel"]

[[feeds]]
url = "https://a.example/rss"
name = "A"
watches = ["raids"]
interval = 600

[[feeds]]
url = "https://c.example/rss"

[[feeds]]
url = "https://a.example/rss"
name = "A for Kursk"
watches = ["kursk", "raids"]
""")
    s = load([write(tmp_path / "c.toml", two)], env={})
    assert [f.url for f in s.feeds] == ["https://a.example/rss", "https://c.example/rss", "https://b.example/rss"]
    a = s.feeds[0]
    assert a.watches == ["raids", "kursk"] and a.name == "A / A for Kursk"
    assert a.interval == 60  # the shorter: the service's poll_interval for the one that set none
    everyone = two.replace('name = "A for Kursk"\nwatches = ["kursk", "raids"]', 'name = "A"')
    a = load([write(tmp_path / "d.toml", everyone)], env={}).feeds[0]
    assert a.watches is None and a.name == "A" and a.interval == 60  # no watches listed: every watch
    bad = two.replace('watches = ["kursk", "raids"]', 'watches = ["nope"]')
    assert error(tmp_path, bad) == "feeds[2].watches: no watch named 'nope'"  # the index as written


# --------------------------------------------------------------------------- the shipped config


def test_shipped_config_loads_with_the_environment_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("CLAIMWATCH_REDIS_URL", "CLAIMWATCH_WEBHOOK_URL", "CLAIMWATCH_WEBHOOK_SECRET"):
        monkeypatch.delenv(var, raising=False)
    for s in (load([SHIPPED]), load([SHIPPED], env={})):
        assert isinstance(s, Settings)
        assert s.service.redis_url is None  # `run` embeds one
        assert s.network.allow_private_addresses is False
        (watch,) = s.watches
        assert watch.name == "belgorod-raids"
        assert watch.seed == [ROOT / "config" / "belgorod-raids.txt"]
        assert watch.novelty.known_similarity == 0.5 and watch.novelty.min_words == 6
        assert s.feeds and all(f.url.startswith("https://") for f in s.feeds)
        assert [a.type for a in s.alerts] == ["console", "webhook"]
        assert [a.enabled for a in s.alerts] == [True, False]  # an empty webhook url is skipped


def test_shipped_config_takes_the_webhook_from_the_environment() -> None:
    s = load([SHIPPED], env={"CLAIMWATCH_WEBHOOK_URL": "https://chat.example/hook", "CLAIMWATCH_WEBHOOK_SECRET": "k",
                             "CLAIMWATCH_REDIS_URL": "redis://redis:6379/0"})
    assert s.alerts[1].url == "https://chat.example/hook" and s.alerts[1].secret == "k" and s.alerts[1].enabled
    assert s.service.redis_url == "redis://redis:6379/0"


def test_shipped_config_with_an_override(tmp_path: Path) -> None:
    top = write(tmp_path / "override.toml", """
[service]
poll_interval = 1
data_dir = "/tmp/cw-data"

[network]
allow_private_addresses = true

[[feeds]]
url = "http://127.0.0.1:8000/feed.xml"
name = "local"

[[alerts]]
type = "webhook"
url = "http://127.0.0.1:8001/hook"
secret = "s"
""")
    s = load([SHIPPED, top], env={})
    assert s.service.poll_interval == 1 and s.service.http_port == 8787
    assert s.network.allow_private_addresses and s.network.timeout == 20
    assert [f.name for f in s.feeds] == ["local"]
    assert [(a.type, a.url) for a in s.alerts] == [("webhook", "http://127.0.0.1:8001/hook")]
    assert s.watches[0].name == "belgorod-raids"


# --------------------------------------------------------------------------- models


def roundtrip(obj):  # type: ignore[no-untyped-def]
    return type(obj).from_dict(json.loads(json.dumps(obj.to_dict())))


def test_feed_and_entry_round_trip() -> None:
    feed = Feed("https://a.example/rss", "A", 120.0)
    assert roundtrip(feed) == feed
    entry = Entry(watches=("belgorod-raids", "other"), feed_url="https://a.example/rss", feed_name="A",
                  url="https://a.example/x", link="https://a.example/x?utm_source=rss", guid="g-1",
                  title="Title", summary="Summary — «ёлка»", published="2023-06-01T10:00:00+00:00", author="Ann")
    back = roundtrip(entry)
    assert back == entry
    assert isinstance(back.watches, tuple)
    minimal = Entry(watches=(), feed_url="", feed_name="", url="u", link="u", guid="u")
    assert roundtrip(minimal) == minimal


def test_entry_from_dict_ignores_unknown_fields() -> None:
    d = Entry(("w",), "f", "F", "u", "l", "g").to_dict() | {"added_later": 1}
    assert Entry.from_dict(d) == Entry(("w",), "f", "F", "u", "l", "g")


def test_article_round_trip() -> None:
    article = Article(url="https://a.example/x", title="T", text="P1\nP2", paragraphs=("P1", "P2"), source="A",
                      published="2023-06-01", author=None, language="en", from_summary=True)
    back = roundtrip(article)
    assert back == article
    assert isinstance(back.paragraphs, tuple)


def make_alert() -> Alert:
    return Alert(
        id="abc123", type="new_claims", watch="belgorod-raids", article_url="https://a.example/x",
        article_title="Drones hit depot", article_source="A", article_published=None,
        claims=(Claim("Drones hit a depot on Friday, Gladkov said.", "Gladkov", Known("A known one.", 0.3141)),
                Claim("A second claim with no source on Friday.")),
        detected_at="2023-06-02T10:00:00+00:00",
    )


def test_alert_round_trip() -> None:
    alert = make_alert()
    back = roundtrip(alert)
    assert back.claims[0].nearest_known == Known("A known one.", 0.314)  # rounded to 3 places for JSON
    assert back.claims[1].nearest_known is None
    assert isinstance(back.claims, tuple) and isinstance(back.claims[0], Claim)
    exact = Alert(**{**alert.__dict__, "claims": (Claim("c", "who", Known("k", 0.5)), Claim("d")),
                     "extra": {"retry": 1}})
    assert roundtrip(exact) == exact
    assert roundtrip(back) == back


def test_alert_payload_has_exactly_the_contract_keys() -> None:
    payload = json.loads(json.dumps(make_alert().payload()))
    assert set(payload) == {"type", "id", "watch", "article", "claims", "detected_at"}
    assert set(payload["article"]) == {"url", "title", "source", "published"}
    for claim in payload["claims"]:
        assert set(claim) == {"text", "attribution", "nearest_known"}
    assert set(payload["claims"][0]["nearest_known"]) == {"text", "similarity"}
    assert payload["type"] == "new_claims" and payload["id"] == "abc123" and payload["watch"] == "belgorod-raids"
    assert payload["article"]["published"] is None
    assert payload["claims"][0]["nearest_known"]["similarity"] == 0.314
    assert payload["claims"][1] == {"text": "A second claim with no source on Friday.", "attribution": None,
                                    "nearest_known": None}


def test_the_shipped_commented_feeds_load_when_uncommented(tmp_path: Path) -> None:
    """The Telegram channels and the Russian and Ukrainian search feeds shipped as comments are
    valid [[feeds]] once a user uncomments them."""
    feeds_part, marker, alerts_part = SHIPPED.read_text(encoding="utf-8").partition("# " + "-" * 76 + " alerts")
    opened = re.sub(r"(?m)^# (\[\[feeds\]\]|name = |url = |type = |channel = )", r"\1", feeds_part)
    opened += marker + alerts_part
    (tmp_path / "all.toml").write_text(opened, encoding="utf-8")
    (tmp_path / "belgorod-raids.txt").write_text((SHIPPED.parent / "belgorod-raids.txt").read_text(encoding="utf-8"))
    feeds = load([tmp_path / "all.toml"], env={}).feeds
    assert len(feeds) > len(load([SHIPPED], env={}).feeds)
    telegram = [f.channel for f in feeds if f.type == "telegram"]
    assert "vvgladkov" in telegram and len(telegram) >= 6
    assert {q for f in feeds for q in ("hl=ru", "hl=uk", "setlang=ru", "setlang=uk") if q in f.url} == {
        "hl=ru", "hl=uk", "setlang=ru", "setlang=uk"}
