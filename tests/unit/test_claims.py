"""What counts as a claim, who asserts it, and whether the watch already knows it.

workers.lexicon (reported), workers.attribution, workers.claims (judge), workers.knowledge.
"""

from __future__ import annotations

import pytest

from monitor.models import Claim, Known
from monitor.settings import NoveltySettings
from workers.attribution import attribution
from workers.claims import Verdict, judge
from workers.knowledge import Knowledge
from workers.lexicon import recaps, reported
from workers.text import Analyzer

KNOWN = [
    "Regional governor Vyacheslav Gladkov said on Monday that 70 fighters were killed near the village of Kozinka.",
    "The Russian Volunteer Corps said on Tuesday that its units had entered the town of Grayvoron.",
    "Kremlin spokesman Dmitry Peskov said on Monday that the saboteurs would be driven out of the region.",
]
TITLE = "Fighting continues in Belgorod region"
NOVELTY = NoveltySettings()


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


@pytest.fixture
def knowledge(analyzer: Analyzer) -> Knowledge:
    k = Knowledge("belgorod-raids", analyzer)
    for s in KNOWN:
        k.add(s, "en", "seed:test.txt", "seed")
    return k


def one(sentence: str, knowledge: Knowledge, analyzer: Analyzer, *, year: int | None = 2023,
        title: str = TITLE, lang: str = "en") -> Verdict:
    (v,) = judge([sentence], lang, title, knowledge, analyzer, NOVELTY, year, "https://news.example/a")
    return v


# --------------------------------------------------------------------------- lexicon.reported


@pytest.mark.parametrize("sentence", [
    "Officials said the town was shelled.",
    "According to the governor, the town was shelled.",
    "The governor confirmed that the town was shelled.",
    "The town was shelled on Tuesday.",
    "The town was shelled yesterday.",
    "The town was shelled overnight.",
    "The town was shelled on 22 May.",
    "The town was shelled on June 3.",
    "The town was shelled last night.",
    "Two days later the town was shelled again.",
    # relative times open sentences too
    "Yesterday drones hit the town of Shebekino.",
    "Overnight drones hit the town of Shebekino.",
    "Last night drones hit the town of Shebekino.",
    "The next day drones hit the town of Shebekino.",
])
def test_reported_en(sentence: str) -> None:
    assert reported(sentence, "en")


@pytest.mark.parametrize("sentence", [
    "Shebekino lies near the border with Ukraine.",
    "The Grad is a Soviet-era multiple rocket launcher.",
    "The town was shelled in May 2023.",  # a month with a year is a dated reference, not the report's own time
    "The tuesday group met in the hall.",  # weekdays and months count only capitalised
    "Officials may hold talks about the border.",
    # a month alone dates background as readily as news ("the counteroffensive began in June"): a
    # time of its own is one to the day, as in Russian and Ukrainian
    "Ukraine launched its counteroffensive in the south in June.",
    "Kyiv stepped up offensive operations in the east this month.",
])
def test_background_en_is_not_reported(sentence: str) -> None:
    assert not reported(sentence, "en")


@pytest.mark.parametrize("sentence", [
    "Губернатор заявил, что город обстреляли.",
    "По словам губернатора, город обстреляли.",
    "По данным министерства, город обстреляли.",
    "Город обстреляли в понедельник.",
    "Город обстреляли вчера.",
    "Город обстреляли 22 мая.",
])
def test_reported_ru(sentence: str) -> None:
    assert reported(sentence, "ru")


@pytest.mark.parametrize("sentence", [
    "Шебекино находится недалеко от границы с Украиной.",
    "Город обстреляли 22 мая 2023 года.",
])
def test_background_ru_is_not_reported(sentence: str) -> None:
    assert not reported(sentence, "ru")


def test_reported_uk_uses_the_shared_vocabulary() -> None:
    assert reported("Губернатор повідомив, що місто обстріляли.", "uk")
    assert reported("Місто обстріляли вчора.", "uk")
    assert not reported("Шебекіне розташоване біля кордону з Україною.", "uk")


@pytest.mark.parametrize(("sentence", "lang"), [
    ("Officials had earlier confirmed that the area was under a counter-terrorism regime.", "en"),
    ("The group had previously claimed control of two villages.", "en"),
    ("Ранее РДК заявлял, что участвовал в рейде.", "ru"),
    ("Про запровадження режиму раніше повідомляла місцева влада.", "uk"),
    # counted back from the story's own events, not dated from the report's day
    ("Two days earlier the president had labelled the rebellion treason, officials said.", "en"),
    ("Earlier in the day, armour had been seen rolling up the highway, witnesses said.", "en"),
    # its report in the past perfect: the day it names dates that earlier report
    ("On Saturday his office had said that he negotiated with the rebels all day.", "en"),
    ("The ministry had already announced on Friday that the case was closed.", "en"),
])
def test_recaps(sentence: str, lang: str) -> None:
    assert recaps(sentence, lang)


@pytest.mark.parametrize(("sentence", "lang"), [
    ("Earlier on Tuesday the governor said the town was shelled.", "en"),  # dated: the day's own news
    ("Earlier this week the governor said the town was shelled.", "en"),
    ("Two days ago the governor said the town was shelled.", "en"),
    ("The governor said on Tuesday that the town was shelled.", "en"),
    ("Ранее во вторник губернатор заявил, что город обстреляли.", "ru"),
    ("Die Stadt wurde früher beschossen.", "de"),  # no vocabulary: no recap
    # the past perfect inside what is reported now ("said he had warned")
    ("The president said on Monday he had warned the rebel leader that his men would be crushed.", "en"),
    ("The Kremlin had its spokesman say on Monday that the talks were over.", "en"),
])
def test_not_recaps(sentence: str, lang: str) -> None:
    assert not recaps(sentence, lang)


def test_reported_unknown_language_lets_everything_through() -> None:
    assert reported("Die Stadt liegt an der Grenze.", "de")


# --------------------------------------------------------------------------- attribution


@pytest.mark.parametrize(("sentence", "lang", "who"), [
    ("Dmitry Peskov said the saboteurs would be driven out.", "en", "Dmitry Peskov"),
    ("The Kremlin said the raid had failed.", "en", "Kremlin"),
    ("Gladkov, the regional governor, said the raid had failed.", "en", "Gladkov"),
    ("The raid failed, Governor Vyacheslav Gladkov said.", "en", "Governor Vyacheslav Gladkov"),
    ("The raid failed, said Governor Vyacheslav Gladkov.", "en", "Governor Vyacheslav Gladkov"),
    ("The raid failed, according to the UK Ministry of Defence.", "en", "UK Ministry of Defence"),
    ("According to the UK Ministry of Defence, the raid failed.", "en", "UK Ministry of Defence"),
    ("The Russian Volunteer Corps has claimed responsibility.", "en", "Russian Volunteer Corps"),
    ("Вячеслав Гладков заявил, что город обстреляли.", "ru", "Вячеслав Гладков"),
    ("Город обстреляли, по словам Вячеслава Гладкова.", "ru", "Вячеслава Гладкова"),
    ("По словам Вячеслава Гладкова, город обстреляли.", "ru", "Вячеслава Гладкова"),
    ("Как сообщает ТАСС, город обстреляли.", "ru", "ТАСС"),
])
def test_attribution(sentence: str, lang: str, who: str) -> None:
    assert attribution(sentence, lang) == who


@pytest.mark.parametrize(("sentence", "lang"), [
    ("The town was shelled on Tuesday.", "en"),
    ("Many people said the raid had failed.", "en"),
    ("According to officials, the raid failed.", "en"),
    ("Город обстреляли в понедельник.", "ru"),
])
def test_no_attribution(sentence: str, lang: str) -> None:
    assert attribution(sentence, lang) is None


# --------------------------------------------------------------------------- knowledge


def test_canonical_matches_close_spellings_of_long_words(knowledge: Knowledge) -> None:
    assert knowledge.canonical("kozina") == "kozinka"
    assert knowledge.canonical("kozina", name=True) == "kozinka"
    assert knowledge.canonical("kozinka") == "kozinka"
    assert knowledge.canonical("grayvoron") == "grayvoron"
    assert knowledge.canonical("graivoron") == "grayvoron"


def test_canonical_leaves_short_and_unrelated_words_alone(knowledge: Knowledge) -> None:
    assert knowledge.canonical("kozak") == "kozak"  # too far from kozinka
    assert knowledge.canonical("kill") == "kill"
    assert knowledge.canonical("kil") == "kil"  # shorter than the fuzzy minimum: exact only
    assert knowledge.canonical("mozinka") == "mozinka"  # a different first letter is a different name


def test_canonical_miss_can_match_once_the_word_is_known(knowledge: Knowledge, analyzer: Analyzer) -> None:
    assert knowledge.canonical("tavolzhanka") == "tavolzhanka"
    knowledge.add("Drones hit Novaya Tavolzhanka on Friday, officials said.", "en", "x", "article")
    assert knowledge.canonical("tavolzhansk") == "tavolzhanka"


def test_nearest(knowledge: Knowledge, analyzer: Analyzer) -> None:
    terms = knowledge.normalise(analyzer.terms(KNOWN[1], "en"))
    near, similarity = knowledge.nearest(terms)
    assert near is not None and near.text == KNOWN[1] and near.kind == "seed"
    assert similarity == pytest.approx(1.0)
    terms = knowledge.normalise(analyzer.terms("Units of the Corps entered a bakery on Tuesday.", "en"))
    near, similarity = knowledge.nearest(terms)
    assert near is not None and near.text == KNOWN[1]
    assert 0.0 < similarity < 1.0
    assert knowledge.nearest(analyzer.terms("Completely unrelated pancakes and syrup.", "en")) == (None, 0.0)
    assert knowledge.nearest(analyzer.terms("", "en")) == (None, 0.0)


def test_rare_terms_weigh_more(analyzer: Analyzer) -> None:
    knowledge = Knowledge("w", analyzer)
    for s in [*KNOWN, "Residents of the village of Zhuravlevka were evacuated, the governor said."]:
        knowledge.add(s, "en", "seed:test.txt", "seed")
    assert knowledge.weight("said") == knowledge.weight("never-seen")  # neither is indexed (stop word / new)
    assert knowledge.weight("village") < knowledge.weight("kozinka") < knowledge.weight("never-seen")


def test_dates_are_neither_names_nor_figures(analyzer: Analyzer) -> None:
    terms = analyzer.terms("On Tuesday, 6 June 2023, officials said 39 fighters were killed in May.", "en")
    assert terms.numbers == frozenset({"39"}) and not terms.names & {"tuesday", "june", "may"}


def test_unknown_numbers_and_known_share(knowledge: Knowledge, analyzer: Analyzer) -> None:
    terms = analyzer.terms("Officials said 39 of the 70 fighters were killed.", "en")
    assert knowledge.unknown_numbers(terms) == {"39"}
    assert knowledge.known_share(["kozinka", "grayvoron", "pancake", "syrup"]) == 0.5
    assert knowledge.known_share(["kozina"]) == 1.0  # fuzzy
    assert knowledge.known_share([]) == 0.0


# --------------------------------------------------------------------------- judge


def test_paraphrase_with_mostly_the_same_words_is_known(knowledge: Knowledge, analyzer: Analyzer) -> None:
    v = one("Governor Vyacheslav Gladkov said on Monday that 70 fighters had been killed near the village of Kozina.",
            knowledge, analyzer)
    assert v.verdict == "known"
    assert v.nearest == KNOWN[0]
    assert v.similarity >= NOVELTY.known_similarity
    assert not v.is_new


def test_a_new_figure_makes_a_known_kind_of_fact_new(knowledge: Knowledge, analyzer: Analyzer) -> None:
    v = one("Governor Vyacheslav Gladkov said on Monday that 39 fighters were killed near the village of Kozinka.",
            knowledge, analyzer)
    assert v.verdict == "new"
    assert "39" in v.reason
    assert v.nearest == KNOWN[0]
    assert v.similarity >= NOVELTY.known_similarity  # the words are known; the figure is not
    assert v.attribution == "Governor Vyacheslav Gladkov"


def test_a_new_reported_fact_is_new_with_its_nearest_known(knowledge: Knowledge, analyzer: Analyzer) -> None:
    v = one("Governor Vyacheslav Gladkov said on Wednesday that drones set a fuel depot in Novaya Tavolzhanka "
            "on fire.", knowledge, analyzer)
    assert v.verdict == "new" and v.is_new
    assert v.nearest == KNOWN[0]
    assert 0.0 < v.similarity < NOVELTY.known_similarity
    assert v.attribution == "Governor Vyacheslav Gladkov"
    claim = v.claim()
    assert claim == Claim(v.sentence, "Governor Vyacheslav Gladkov", Known(KNOWN[0], v.similarity))


def test_a_fact_sharing_no_words_is_new_without_nearest(knowledge: Knowledge, analyzer: Analyzer) -> None:
    v = one("Local officials said on Thursday that a power station in Shebekino was damaged by artillery fire.",
            knowledge, analyzer)
    assert v.verdict == "new"
    assert v.nearest is None and v.similarity == 0.0
    assert v.claim().nearest_known is None


def test_short_sentence(knowledge: Knowledge, analyzer: Analyzer) -> None:
    v = one("Gladkov said on Monday so.", knowledge, analyzer)
    assert v.verdict == "short"
    assert "5 words" in v.reason


def test_question(knowledge: Knowledge, analyzer: Analyzer) -> None:
    v = one("Did the Russian Volunteer Corps say on Friday that its units had entered Shebekino?", knowledge, analyzer)
    assert v.verdict == "question"


def test_headline_again(knowledge: Knowledge, analyzer: Analyzer) -> None:
    v = one("Fighting continues in the Belgorod region, officials said.", knowledge, analyzer,
            title="Fighting continues in Belgorod region, officials say")
    assert v.verdict == "headline"


def test_headline_again_when_the_knowledge_spells_its_words_otherwise(knowledge: Knowledge,
                                                                      analyzer: Analyzer) -> None:
    # the sentence's terms take the knowledge's spelling ("Grayvoron" known, "Graivoron" written);
    # the headline's must too, or the page's own headline alerts as a claim
    title = "Volunteers say 70 fighters entered Graivoron"
    assert knowledge.normalise(analyzer.terms(title, "en")) != analyzer.terms(title, "en")
    assert one(title, knowledge, analyzer, title=title).verdict == "headline"


def test_background_with_only_earlier_years(knowledge: Knowledge, analyzer: Analyzer) -> None:
    v = one("The region was shelled in 2022 and again in 2021, the governor said.", knowledge, analyzer)
    assert v.verdict == "background"
    assert "2021, 2022" in v.reason
    # the same sentence with the article's own year is a claim (judged; a year alone is a date, not a
    # new figure, so against the sentence above it is known)
    v = one("The region was shelled in 2022 and again in 2023, the governor said.", knowledge, analyzer)
    assert v.verdict == "known" and "says it" in v.reason


def test_a_recap_is_news_only_with_a_name_or_figure_the_watch_lacks(knowledge: Knowledge,
                                                                       analyzer: Analyzer) -> None:
    v = one("Officials had earlier confirmed that a power station in Grayvoron was damaged by shelling.",
            knowledge, analyzer)
    assert v.verdict == "background" and "recaps an earlier report" in v.reason
    # without the recap, such a report is a claim, and new
    v = one("Officials confirmed that a school in Grayvoron was hit by rockets.", knowledge, analyzer)
    assert v.verdict == "new"
    # a recap with a figure the watch has never seen is news all the same
    v = one("Officials had earlier confirmed that 14 houses in Grayvoron were damaged by shelling.",
            knowledge, analyzer)
    assert v.verdict == "new" and "14" in v.reason


def test_background_without_source_or_time(knowledge: Knowledge, analyzer: Analyzer) -> None:
    v = one("The village of Kozinka lies close to the border with the Kharkiv region of Ukraine.", knowledge, analyzer)
    assert v.verdict == "background"
    assert "no source" in v.reason


def test_a_first_hand_statement_needs_no_named_source_but_a_habit_is_still_background(
        knowledge: Knowledge, analyzer: Analyzer) -> None:
    # a channel's own post (a Telegram governor): "two were wounded" is his report, naming no one
    post = "В Шебекино после обстрела ранены двое мирных жителей, повреждены пять частных домов."
    judged = judge([post], "ru", "", knowledge, analyzer, NOVELTY, 2023, "https://t.me/vvgladkov/1")
    assert judged[0].verdict == "background"  # in an article it would be background
    fresh = Knowledge("belgorod-raids", analyzer)
    for s in KNOWN:
        fresh.add(s, "en", "seed:test.txt", "seed")
    [v] = judge([post], "ru", "", fresh, analyzer, NOVELTY, 2023, "https://t.me/vvgladkov/1", first_hand=True)
    assert v.verdict == "new"
    habit = "В Шебекино жители обычно ездят за продуктами в соседний Белгород на автобусе."
    [h] = judge([habit], "ru", "", fresh, analyzer, NOVELTY, 2023, "https://t.me/vvgladkov/2", first_hand=True)
    assert (h.verdict, h.reason) == ("background", "tells a habit or only an earlier time")


def test_a_sentence_repeated_in_one_article_is_new_once(knowledge: Knowledge, analyzer: Analyzer) -> None:
    s = "Local officials said on Thursday that a power station in Shebekino was damaged by artillery fire."
    verdicts = judge([s, "The mayor, Valentin Demidov, said on Friday that schools would stay shut.", s], "en", TITLE,
                     knowledge, analyzer, NOVELTY, 2023, "https://news.example/a")
    assert [v.verdict for v in verdicts] == ["new", "new", "known"]
    assert verdicts[2].nearest == s


def test_every_judged_sentence_joins_the_knowledge(knowledge: Knowledge, analyzer: Analyzer) -> None:
    before = len(knowledge.items)
    sents = ["Short one.", "Local officials said on Thursday that a power station in Shebekino was damaged."]
    judge(sents, "en", TITLE, knowledge, analyzer, NOVELTY, 2023, "https://news.example/b")
    added = knowledge.items[before:]
    assert [k.text for k in added] == sents
    assert {k.source for k in added} == {"https://news.example/b"}
    assert {k.kind for k in added} == {"article"}
    # so the same fact in the next article is known
    v = one("Officials said on Thursday that the power station in Shebekino was damaged by artillery.",
            knowledge, analyzer)
    assert v.verdict == "known"


def test_a_stricter_threshold_alerts_more_paraphrases(knowledge: Knowledge, analyzer: Analyzer) -> None:
    s = "Governor Gladkov said on Monday that 70 fighters died in Kozinka and Grayvoron."
    lenient = judge([s], "en", TITLE, knowledge, analyzer, NOVELTY, 2023, "u")[0]
    assert lenient.verdict == "known"
    strict = NoveltySettings(known_similarity=0.95)
    k2 = Knowledge("w", analyzer)
    for i, known in enumerate(KNOWN):  # separate texts: no sentence is read with another's names
        k2.add(known, "en", f"seed:{i}", "seed")
    assert judge([s], "en", TITLE, k2, analyzer, strict, 2023, "u")[0].verdict == "new"


def test_judge_russian(analyzer: Analyzer) -> None:
    k = Knowledge("w", analyzer)
    known = "Губернатор Вячеслав Гладков заявил в понедельник, что в Шебекино погибли два человека."
    k.add(known, "ru", "seed", "seed")
    verdicts = judge([
        "Губернатор Вячеслав Гладков заявил в понедельник, что в Шебекино погибли два человека.",
        "Вячеслав Гладков сообщил во вторник, что беспилотник атаковал нефтебазу в Грайвороне.",
        "Шебекино находится недалеко от границы с Украиной и Харьковской областью.",
    ], "ru", "", k, analyzer, NOVELTY, 2023, "u")
    assert [v.verdict for v in verdicts] == ["known", "new", "background"]
    assert verdicts[1].attribution == "Вячеслав Гладков"


def test_a_claim_in_a_language_the_watch_hardly_knows_is_judged_by_names_and_figures(
        knowledge: Knowledge, analyzer: Analyzer) -> None:
    # KNOWN[0]: Gladkov said on Monday that 70 fighters were killed near the village of Kozinka.
    same = one("Губернатор Вячеслав Гладков заявил в понедельник, что у села Козинка убиты 70 боевиков.",
               knowledge, analyzer, lang="ru")
    assert same.verdict == "known", same.reason
    figure = one("Губернатор Вячеслав Гладков заявил в понедельник, что у села Козинка убиты 39 боевиков.",
                 knowledge, analyzer, lang="ru")
    assert figure.verdict == "new" and "39" in figure.reason
    place = one("Губернатор Гладков заявил во вторник, что беспилотник атаковал здание ФСБ в Новой Таволжанке.",
                knowledge, analyzer, lang="ru")
    assert place.verdict == "new"


def test_relevance_of_a_foreign_article_reads_its_names(knowledge: Knowledge, analyzer: Analyzer) -> None:
    from workers.relevance import relevance

    about = [analyzer.terms(s, "ru") for s in ("Губернатор Вячеслав Гладков заявил, что в Козинке идут бои.",)]
    other = [analyzer.terms(s, "ru") for s in ("Мэр Казани Ильсур Метшин открыл в Татарстане новый стадион.",)]
    assert relevance(about, knowledge, "ru") > 0.5 > relevance(other, knowledge, "ru")


def test_a_restatement_whose_names_the_source_text_already_holds_is_known(analyzer: Analyzer) -> None:
    k = Knowledge("w", analyzer)
    for s in ("President Vladimir Putin was told about the raid, officials said on Monday.",
              "Kremlin spokesman Dmitry Peskov said on Monday that the saboteurs would be driven out."):
        k.add(s, "en", "seed:story.txt", "seed")
    claim = "Peskov said on Monday that Putin had promised the saboteurs would be forced out."
    (v,) = judge([claim], "en", TITLE, k, analyzer, NOVELTY, 2023, "https://news.example/b")
    assert v.verdict == "known", v.reason  # every name is in the seed story, the words are close
    # a name that is a word of the language ("Moscow" for the Kremlin) need not be in the story's text
    (m,) = judge(["Peskov said on Monday that Moscow had vowed the saboteurs would be forced out."],
                 "en", TITLE, k, analyzer, NOVELTY, 2023, "https://news.example/m")
    assert m.verdict == "known", m.reason
    # the same sentence naming someone the story never named is new
    (w,) = judge(["Peskov said on Monday that Shoigu had promised the saboteurs would be forced out."],
                 "en", TITLE, k, analyzer, NOVELTY, 2023, "https://news.example/c")
    assert w.verdict == "new", w.reason
    # within one article, a second fact that reuses the article's own names is not a restatement
    article = ["Governor Gladkov said on Tuesday that shelling damaged a school in Shebekino.",
               "Gladkov added on Tuesday that repair crews in Shebekino were waiting to reconnect a power line."]
    verdicts = judge(article, "en", TITLE, k, analyzer, NOVELTY, 2023, "https://news.example/d")
    assert [x.verdict for x in verdicts] == ["new", "new"]



@pytest.mark.parametrize("sentence", [
    "No country has given Ukraine more military aid than the United States.",  # "States" is no verb
    "The group announced last month that it was handing its positions over to the army.",  # earlier news
])
def test_background_that_looks_like_a_report(sentence: str, knowledge: Knowledge, analyzer: Analyzer) -> None:
    assert one(sentence, knowledge, analyzer).verdict == "background"


def test_an_unknown_first_word_alone_does_not_make_a_claim_new(knowledge: Knowledge, analyzer: Analyzer) -> None:
    """Capitalised as the first word, a word the dictionary lacks reads as a name; it may be an
    adjective all the same, so it is not "a name the watch has never seen" (a name further on is)."""
    base = "fighters said on Monday that 70 of them were killed near the village of Kozinka, Gladkov said."
    v = one(f"Antiputinist {base}", knowledge, analyzer)
    assert v.verdict == "known", v.reason
    w = one(f"Antiputinist {base.replace('Kozinka', 'Glotovo')}", knowledge, analyzer)
    assert w.verdict == "new" and "glotovo" in w.reason


def test_a_name_that_is_a_word_of_the_language_is_no_news_on_its_own(analyzer: Analyzer) -> None:
    """"British officials" for "the UK's defence ministry", "Moscow's commanders" for "Russian
    commanders": a name that is also a dictionary word (a nationality, a capital) is how a
    restatement words its subject, not a name the story never had; a proper name still is."""
    k = Knowledge("w", analyzer)
    k.add("Russian commanders now face a dilemma between defending the border regions and reinforcing occupied "
          "Ukraine, the UK's defence ministry said on Tuesday.", "en", "seed:story.txt", "seed")
    claim = ("On Tuesday British officials said that Moscow's commanders now face a dilemma between defending the "
             "border regions and reinforcing occupied Ukraine.")
    (v,) = judge([claim], "en", TITLE, k, analyzer, NOVELTY, 2023, "https://news.example/b")
    assert v.verdict == "known", v.reason
    (w,) = judge([claim.replace("British officials", "Denis Kapustin")], "en", TITLE, k, analyzer, NOVELTY, 2023,
                 "https://news.example/c")
    assert w.verdict == "new" and "kapustin" in w.reason
