"""monitor.filters: folding and watch query expressions."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.filters import Query, fold, watch_query
from monitor.settings import WatchSettings

ROOT = Path(__file__).resolve().parents[2]


def test_fold() -> None:
    assert fold("Ёлка ЁЖ") == "елка еж"
    assert fold("Café NAÏVE Ångström") == "cafe naive angstrom"
    assert fold("«Привет» „hallo“ “hi” ‘x’") == "\"привет\" \"hallo\" \"hi\" 'x'"
    assert fold("a — b – c − d") == "a - b - c - d"
    assert fold("  a\u00a0\t\nb  ") == "a b"
    assert fold("soft\u00adhyphen zero\u200bwidth") == "softhyphen zerowidth"
    assert fold("ＦＵＬＬ ｗｉｄｔｈ") == "full width"
    assert fold("STRASSE Straße") == "strasse strasse"


def q(*keywords: str, exclude: tuple[str, ...] = ()) -> Query:
    return Query.parse(keywords, exclude)


@pytest.mark.parametrize(("text", "expected"), [
    ("Обстрел Белгородской области", True),
    ("в белгороде сирены", True),
    ("БЕЛГОРОД", True),
    ("Новобелгородский район", False),  # a prefix, not an infix
    ("Belgorod", False),
])
def test_cyrillic_prefix(text: str, expected: bool) -> None:
    assert q("Белгород*").matches(text) is expected


def test_whole_words_only() -> None:
    query = q("raid")
    assert query.matches("Air raid on the city") and query.matches("raid.") and query.matches("(raid)")
    assert not query.matches("raided") and not query.matches("Braid")
    assert q("обстрел").matches("обстрел") and not q("обстрел").matches("обстрелы")
    assert q("обстрел*").matches("Обстрелы продолжаются")


def test_phrases() -> None:
    query = q('"air raid"')
    assert query.matches("An AIR-RAID alert") and query.matches("air  raid") and query.matches("air, raid")
    assert not query.matches("raid air") and not query.matches("airraid") and not query.matches("air strike raid")
    assert q('"Белгородск* област*"').matches("жители Белгородской области")
    assert q("Ростов-на-Дону").matches("в Ростов на Дону") and not q("Ростов-на-Дону").matches("Ростов")


def test_guillemets_and_quotes_in_text() -> None:
    assert q('"Шебекино"').matches("Город «Шебекино» обстрелян")
    assert q("Шебекино").matches("«Шебекино»")
    assert q("«Шебекино»").matches("шебекино")  # guillemets in the expression work as quotes
    assert q('"школа № 5"').matches("Школа № 5 закрыта")  # NFKD: № -> "no"


def test_diacritics_and_yo() -> None:
    assert q("cafe").matches("Le Café de Flore")
    assert q("Café").matches("CAFE")
    assert q("ёж").matches("Еж") and q("еж").matches("Ёж")
    assert q("Київ").matches("КИЇВ") and q("Київ").matches("киів")


def test_boolean_operators() -> None:
    query = q("drone AND (Belgorod OR Kursk) NOT toy")
    assert query.matches("Drone hits Belgorod")
    assert query.matches("Kursk: a drone was downed")
    assert not query.matches("Drone hits Moscow")
    assert not query.matches("Belgorod toy drone fair")
    implicit = q("drone Belgorod")
    assert implicit.matches("Belgorod drone") and not implicit.matches("drone")
    assert q("NOT toy").matches("anything") and not q("NOT toy").matches("a toy")
    assert q("NOT NOT toy").matches("toy")
    assert q("a OR b c").matches("a") and q("a OR b c").matches("c b") and not q("a OR b c").matches("b")


def test_lowercase_operators_are_words() -> None:
    assert q("rock and roll").matches("Rock and roll") and not q("rock and roll").matches("rock roll")
    assert q('"NOT"').matches("not") and q('"OR"').matches("or")


def test_any_keyword_and_no_exclude() -> None:
    query = q("Белгород*", "Шебекино", exclude=("учени*", '"футбольный матч"'))
    assert query.matches("В Шебекино сирены")
    assert not query.matches("В Белгороде начались учения")
    assert not query.matches("Белгород: футбольный матч перенесён")
    assert not query.matches("Курск")
    assert not Query.parse([]).matches("anything")


@pytest.mark.parametrize("bad", ["", "   ", "(a", "a)", '"unclosed', "a AND", "OR a", "NOT", "a ()", "***", "()"])
def test_bad_expressions(bad: str) -> None:
    with pytest.raises(ConfigError, match="keywords: "):
        Query.parse([bad])


def test_bad_exclude_names_its_key() -> None:
    with pytest.raises(ConfigError, match="exclude: "):
        Query.parse(["ok"], ["(x"])


def test_watch_query_names_the_watch() -> None:
    watch = WatchSettings(name="belgorod", keywords=["Белгород*"], exclude=["учени*"])
    assert watch_query(watch).matches("Белгородская область")
    with pytest.raises(ConfigError, match=r"^watches\.bad\.keywords: "):  # settings refuse it first (test_settings)
        watch_query(WatchSettings.model_construct(name="bad", keywords=["(a"], exclude=[]))


def test_regex_metacharacters_are_literal() -> None:
    assert q("c++").matches("I like C") and not q("a.b").matches("axb")
    assert q("a.b").matches("a b") and q("[x]").matches("x")


# --------------------------------------------------------------------------- look-alike letters


def test_latin_and_cyrillic_look_alikes_match() -> None:
    assert q("Бiлгород*").matches("Обстріл Білгорода")  # the keyword's i is Latin, the text's і Cyrillic
    assert q("Білгород*").matches("Бiлгородщина")  # and the other way round
    assert q("Белгород*").matches("Бeлгoрoд")  # Latin e and o in the text
    assert q("Белгород*").matches("БEЛГOРOДСКАЯ")  # capitals too
    assert q("Belgorod").matches("Вelgorod") and q("Belgorod").matches("ВЕLGОRОD")  # Cyrillic В, Е, О
    assert q('"Русский добровольческий корпус"').matches("Pусский дoбровольческий кoрпус")
    assert q("Shebekino").matches("Shеbеkinо")  # Cyrillic е, о in a Latin word


def test_look_alike_folding_does_not_blur_scripts_otherwise() -> None:
    assert not q("Belgorod").matches("Белгород")  # a transliteration is not a look-alike
    assert not q("Белгород*").matches("Belgorod")
    assert not q("RVC").matches("РВС")  # Р В С look like P B C, not R V C
    assert q("РДК").matches("рдк") and q("Новая").matches("НОВАЯ")  # case folding still holds


def test_shipped_keywords_match_ukrainian_and_russian_spellings() -> None:
    from monitor.settings import load

    (watch,) = load([ROOT / "config" / "claimwatch.toml"], env={}).watches
    assert all("i" not in k for k in watch.keywords if any("а" <= c <= "я" for c in k.lower())), \
        "a Latin i in a Cyrillic keyword"
    query = watch_query(watch)
    for text in ("Обстріл Білгородщини", "у Бєлгороді", "в Белгороде", "Шебекіно", "Грайворону"):
        assert query.matches(text), text


# --------------------------------------------------------------------------- words, nesting, regex look-alikes


def test_underscores_separate_words() -> None:
    assert q('"air raid"').matches("#air_raid") and q("raid").matches("air_raid")
    assert q("Белгород*").matches("Белгород_область")


def test_nesting_is_bounded() -> None:
    assert q("(" * 32 + "dam" + ")" * 32).matches("a dam")
    assert q("NOT " * 32 + "dam").matches("dam") and not q("NOT " * 31 + "dam").matches("dam")
    for deep in ("(" * 33 + "dam" + ")" * 33, "NOT " * 33 + "dam", "(" * 1000 + "dam" + ")" * 1000):
        with pytest.raises(ConfigError, match="nested more than 32 deep"):
            Query.parse([deep])


@pytest.mark.parametrize("regex", ["Belgorod.*", "Bel.+grad", r"\bBelgorod", r"\w+", "Belgorod|Kursk", "(?i)Belgorod",
                                   "[^x]", "[Bb]+elgorod", "a{2,3}", "^Belgorod", "Belgorod$", '"^Belgorod"'])
def test_regular_expressions_are_refused_with_a_hint(regex: str) -> None:
    with pytest.raises(ConfigError, match="looks like a regular expression .*; keywords are words"):
        Query.parse([regex])


@pytest.mark.parametrize("stray", ["*gorod", "Bel*grad", '"air *"', "a ** b"])
def test_a_star_only_ends_a_word(stray: str) -> None:
    with pytest.raises(ConfigError, match=r"a \* ends a word"):
        Query.parse([stray])


def test_prefix_lookups_use_the_vocabulary() -> None:
    text = "Белгородская область, белгородцы, Белгород; новобелгородский"
    assert q("Белгород*").matches(text) and q("белгородц*").matches(text) and not q("белгородч*").matches(text)
    assert q('"Белгородск* област*"').matches(text) and not q('"област* белгородск*"').matches(text)
    assert q('"новобелгородск*"').matches(text) and not q("новобелгород").matches(text)
    assert not q("x*").matches("") and not q('"a b"').matches("a")  # empty text; a phrase longer than the text
