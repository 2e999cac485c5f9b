"""The days a sentence tells of (workers.days), and why a known text that never names a claim's
day cannot be the report the claim restates (workers.novelty, through workers.claims.judge)."""

from __future__ import annotations

from datetime import date

import pytest

from monitor.settings import NoveltySettings
from workers.claims import judge
from workers.days import carried, days, months_alone, only_earlier_months
from workers.knowledge import Knowledge
from workers.text import Analyzer

NOVELTY = NoveltySettings()
TITLE = "Fighting continues in Belgorod region"
WEDNESDAY = date(2023, 5, 24)


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


@pytest.mark.parametrize(("sentence", "expected"), [
    ("Gladkov insisted on Thursday that the enemy had gone.", [{"wd3"}]),
    ("Гладков в четверг заявил, что противника нет.", [{"wd3"}]),
    ("Гладков у четвер заявив, що противника немає.", [{"wd3"}]),
    ("Гладков в среду заявил об этом.", [{"wd2"}]),
    ("Both attacks happened on May 22 and June 1.", [{"05-22"}, {"06-01"}]),
    ("Нападения 22 мая и 1 июня приписывают Легиону.", [{"05-22"}, {"06-01"}]),
    ("Атаки 22 травня та 1 червня приписують Легіону.", [{"05-22"}, {"06-01"}]),
    ("The ministry said on 6 June 2023 that it had struck back.", [{"06-06", "wd1"}]),
])
def test_days_in_each_language(sentence: str, expected: list[set[str]]) -> None:
    assert [set(d) for d in days(sentence)] == expected


@pytest.mark.parametrize("sentence", [
    "Officials may say more about the raid.",  # "may" the verb is no month
    "The march on Moscow was halted in the evening.",  # nor "march" the noun
    "The strategy was set out in March 2023.",  # a month and a year name no day
    "The group's friday prayers were cancelled.",  # an English weekday is capitalised
])
def test_no_day(sentence: str) -> None:
    assert days(sentence) == []


def test_a_weekday_resolves_by_the_published_day_and_a_date_names_its_weekday() -> None:
    (tuesday,) = days("Gladkov announced on Tuesday that the regime was lifted.", WEDNESDAY)
    assert tuesday == {"wd1", "05-23"}  # the latest Tuesday on or before Wednesday 24 May
    (same,) = days("Gladkov announced on 23 May that the regime was lifted.", WEDNESDAY)
    assert same == {"05-23", "wd1"}
    assert carried([same], set(tuesday)) and carried([tuesday], set(same))
    (thursday,) = days("Gladkov insisted on Thursday.", date(2023, 5, 26))
    assert not carried([thursday], set(tuesday))
    assert carried([], set())  # a claim that names no day asks nothing of the known text


def _knowledge(analyzer: Analyzer) -> Knowledge:
    k = Knowledge("w", analyzer)
    k.day_index.published("https://news.example/first", WEDNESDAY)
    k.add("Belgorod governor Vyacheslav Gladkov announced on Tuesday that there was no enemy left on the "
          "territory of the region.", "en", "https://news.example/first", "article")
    k.add("Regional governor Vyacheslav Gladkov said that shelling had damaged a school in Shebekino.",
          "en", "seed:story.txt", "seed")
    return k


def _one(sentence: str, k: Knowledge, analyzer: Analyzer, url: str, published: date) -> str:
    k.day_index.published(url, published)
    (v,) = judge([sentence], "en", TITLE, k, analyzer, NOVELTY, published.year, url)
    return f"{v.verdict}: {v.reason}"


def test_a_claim_told_of_another_day_than_the_known_report_is_new(analyzer: Analyzer) -> None:
    k = _knowledge(analyzer)
    claim = ("Belgorod governor Vyacheslav Gladkov insisted on Thursday that there was no enemy left on the "
             "territory of the region.")
    verdict = _one(claim, k, analyzer, "https://news.example/second", date(2023, 5, 26))
    assert verdict.startswith("new") and "never names 25 May" in verdict  # check --explain says why


@pytest.mark.parametrize("claim", [
    # the same day, by weekday, by date (resolved through each text's published day), or not given
    "Belgorod governor Vyacheslav Gladkov said on Tuesday that there was no enemy left on the territory of "
    "the region.",
    "Belgorod governor Vyacheslav Gladkov said on 23 May that there was no enemy left on the territory of "
    "the region.",
    "Belgorod governor Vyacheslav Gladkov said that there was no enemy left on the territory of the region.",
    # a wire dateline's day is the day the desk filed, not the day of what it tells
    "LONDON, May 26 (Wire) - Belgorod governor Vyacheslav Gladkov said on Tuesday that there was no enemy "
    "left on the territory of the region.",
])
def test_a_claim_of_the_known_report_s_day_is_known(claim: str, analyzer: Analyzer) -> None:
    k = _knowledge(analyzer)
    assert _one(claim, k, analyzer, "https://news.example/second", date(2023, 5, 26)).startswith("known")


@pytest.mark.parametrize(("sentence", "months"), [
    ("The RDK said in May that it had taken part.", [5]),
    ("РДК ещё в мае заявлял, что участвовал во вторжении.", [5]),
    ("У травні легіон заявив про рейд.", [5]),
    ("Officials may say more in the coming days.", []),  # "may" the verb
    ("The group said on May 22 that it had crossed.", []),  # a day, not a month alone
])
def test_months_named_alone(sentence: str, months: list[int]) -> None:
    assert months_alone(sentence) == months


def test_only_earlier_months_recap() -> None:
    june = date(2023, 6, 5)
    assert only_earlier_months("РДК ещё в мае заявлял, что участвовал во вторжении.", june)
    assert not only_earlier_months("РДК в июне заявил, что участвовал во вторжении.", june)  # this month
    assert not only_earlier_months("The RDK said on Sunday it had fought there in May.", june)  # a day of its own
    assert not only_earlier_months("РДК ещё в мае заявлял об этом.", None)  # no published day: no rule


def test_a_claim_dated_by_an_earlier_month_alone_is_a_recap(analyzer: Analyzer) -> None:
    k = _knowledge(analyzer)
    url, published = "https://news.example/june", date(2023, 6, 5)
    recap = "Officials said in May that evacuation buses were waiting for families near the border."
    assert _one(recap, k, analyzer, url, published).startswith("background")
    assert _one(recap.replace("in May", "on Sunday"), k, analyzer, url + "1", published).startswith("new")
    news = "Officials said in May that evacuation buses were waiting for families near Glotovo."
    assert _one(news, k, analyzer, url + "2", published).startswith("new")  # a place the watch never saw


def test_a_copy_published_a_week_later_keeps_its_weekday(analyzer: Analyzer) -> None:
    """A republication a week on still says "on Tuesday" of the first week: a weekday is matched by
    name, never taken for the later week's Tuesday (that would make every late copy new)."""
    k = _knowledge(analyzer)
    copy = ("Belgorod governor Vyacheslav Gladkov announced on Tuesday that there was no enemy left on the "
            "territory of the region.")
    assert _one(copy, k, analyzer, "https://news.example/copy", date(2023, 6, 1)).startswith("known")
