"""monitor.filters: folding and watch query expressions."""

from __future__ import annotations

import pytest

from monitor.errors import ConfigError
from monitor.filters import Query, fold, watch_query
from monitor.settings import WatchSettings


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
    with pytest.raises(ConfigError, match=r"^watches\.bad\.keywords: "):
        watch_query(WatchSettings(name="bad", keywords=["(a"]))


def test_regex_metacharacters_are_literal() -> None:
    assert q("c++").matches("I like C") and not q("a.b").matches("axb")
    assert q("a.b").matches("a b") and q("[x]").matches("x")
