"""Relevance: topical share (stable as knowledge grows) and the events' time."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from monitor.settings import WatchSettings
from monitor.store import KnownRecord
from workers.knowledge import Knowledge
from workers.relevance import out_of_time, relevance
from workers.seed import seed_sentences
from workers.text import Analyzer

SEED = Path(__file__).resolve().parents[2] / "config" / "belgorod-raids.txt"
RELATED = [
    "Governor Vyacheslav Gladkov said on Tuesday that fighters who crossed from Ukraine into Grayvoron district "
    "had been pushed back after shelling damaged houses in Kozinka.",
    "The Freedom of Russia Legion said its units had raided the border village again on Wednesday.",
]
UNRELATED = [  # a namesake: a whole article about a submarine called Belgorod
    "Russia's nuclear-powered submarine Belgorod has sailed into the Barents Sea for sea trials, the navy said.",
    "The submarine, the longest in the world, can carry Poseidon torpedoes and deep-sea drones, analysts said.",
    "Western naval observers tracked the vessel as it left its base near Severodvinsk on the White Sea coast.",
    "The boat was laid down in 1992 as an Oscar-class cruise missile carrier and later rebuilt for special missions.",
    "Norwegian intelligence warned in its annual assessment that such tests could take place through the summer.",
]


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


def _seeded(analyzer: Analyzer) -> Knowledge:
    k = Knowledge("w", analyzer)
    lang, sents = seed_sentences(SEED.read_text(encoding="utf-8"), analyzer)
    k.add_records([KnownRecord(s, "seed", "article", lang) for s in sents])
    return k


def _score(texts: list[str], k: Knowledge, analyzer: Analyzer) -> float:
    return relevance([analyzer.terms(t, "en") for t in texts], k, "en")


def test_topical_share_separates_a_story_from_a_namesake_and_stays_so_as_knowledge_grows(
        analyzer: Analyzer) -> None:
    k = _seeded(analyzer)
    assert _score(RELATED, k, analyzer) > 0.15 > _score(UNRELATED, k, analyzer)
    # a watch that accepted many articles knows many more words; the namesake must stay out
    for i in range(50):
        k.add_records([KnownRecord(f"Officials said on Monday that {n} people were evacuated from villages near "
                                   f"the border of the region as the military reported more shelling.", f"a{i}",
                                   "article", "en") for n in range(3)])
    assert _score(UNRELATED, k, analyzer) < 0.15
    assert k.topical("grayvoron", "en") and not k.topical("say", "en") and not k.topical("russia", "en")


def test_articles_far_from_the_events_dates_are_another_event(analyzer: Analyzer) -> None:
    watch = WatchSettings(name="w", keywords=["x"], event_dates=[date(2023, 5, 22), date(2023, 6, 1)])
    k = Knowledge("w", analyzer)
    assert out_of_time("2023-05-25T10:00:00Z", watch, k) is None
    assert "before" in (out_of_time("2023-03-02T10:00:00Z", watch, k) or "")
    assert "after" in (out_of_time("2023-12-30T10:00:00Z", watch, k) or "")
    k.dates.append(date(2023, 11, 20))  # an accepted article keeps the events in the news
    assert out_of_time("2023-12-30T10:00:00Z", watch, k) is None
    assert out_of_time("2023-12-30", WatchSettings(name="w", keywords=["x"]), k) is None  # no dates: no rule


def test_in_a_language_the_watch_hardly_reads_one_shared_name_is_a_namesake(analyzer: Analyzer) -> None:
    k = _seeded(analyzer)
    one = [analyzer.terms("В Белгороде и Белгородской области прошли соревнования школьников по квадрокоптерам.", "ru")]
    two = [analyzer.terms("Губернатор Гладков сообщил, что бои шли в Грайвороне и Белгороде.", "ru")]
    assert relevance(one, k, "ru") == 0.0
    assert relevance(two, k, "ru") > 0.5


def test_in_a_language_the_watch_hardly_reads_names_meet_across_transliterations(analyzer: Analyzer) -> None:
    """Ukrainian spells Белгород as Бєлгород (bielgorod), Путіна and Грайвороні in its own letters:
    their consonant keys meet the English seed's Belgorod, Putin and Grayvoron."""
    k = _seeded(analyzer)
    uk = [analyzer.terms("Бійці зайшли на Бєлгородщину, а Путіна поінформували про бої в Грайвороні та "
                         "Козинці, повідомили Денис Капустін і Ілля Пономарьов.", "uk")]
    assert relevance(uk, k, "uk") >= 0.5
    # one name, however spelt, is still a namesake
    one = [analyzer.terms("У Бєлгороді та на Бєлгородщині пройшли змагання школярів з квадрокоптерів.", "uk")]
    assert relevance(one, k, "uk") == 0.0



def test_an_entry_read_for_its_learned_terms_must_still_name_a_keyword(analyzer: Analyzer) -> None:
    """The learned profile widens what is read (a title and summary that name no keyword); the
    article must name one somewhere all the same: another story told in the watch's words (the
    mutiny of a group the raids' articles mentioned) is not read as this watch's."""
    from monitor.filters import watch_query
    from monitor.models import Article
    from workers.pipeline import assess

    watch = WatchSettings(name="w", keywords=["Belgorod", "Grayvoron"])
    k = _seeded(analyzer)
    body = ("Governor Vyacheslav Gladkov said on Tuesday that fighters who crossed from Ukraine had been pushed "
            "back after shelling damaged houses in Kozinka, and the Freedom of Russia Legion said its units "
            "would return.")
    for text, status in ((body, "no_match"), (body.replace("Kozinka", "Kozinka near Grayvoron"), "new_claims")):
        article = Article(url="https://news.example/a", title="Fighters pushed back", text=text, paragraphs=(text,),
                          published="2023-05-24T10:00:00Z", language="en")
        a = assess(article, watch, k, analyzer, watch_query(watch), learned=True)
        assert a.status == status, a.reason
