"""workers.text: sentences, languages, content lemmas vs names, figures, years."""

from __future__ import annotations

import pytest

from workers.text import Analyzer, Terms, years


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


# --------------------------------------------------------------------------- terms


def test_terms_splits_names_from_content_lemmas(analyzer: Analyzer) -> None:
    t = analyzer.terms("Kremlin spokesman Dmitry Peskov said the fighters were killed near Grayvoron.", "en")
    # capitalised words are names (folded), every kept word is also a content lemma
    assert {"kremlin", "dmitry", "peskov", "grayvoron"} <= t.names
    assert {"spokesman", "fighter", "kill"} <= t.content  # lemmatised: fighters -> fighter, killed -> kill
    assert "fighters" not in t.content and "killed" not in t.content
    assert {"kremlin", "dmitry", "peskov", "grayvoron"} <= t.content
    # ordinary lower-case words are never names
    assert not {"spokesman", "fighter", "kill"} & t.names


def test_terms_first_word_is_a_name_only_when_not_a_dictionary_word(analyzer: Analyzer) -> None:
    t = analyzer.terms("Governor Gladkov visited the shelled villages.", "en")
    assert "governor" not in t.names  # capitalised only because it opens the sentence
    assert "governor" in t.content
    assert "gladkov" in t.names
    t = analyzer.terms("Gladkov visited the shelled villages.", "en")
    assert "gladkov" in t.names


def test_terms_drops_stopwords_and_short_words(analyzer: Analyzer) -> None:
    t = analyzer.terms("The governor said that it was in a village and he was there.", "en")
    assert not {"the", "that", "it", "was", "in", "a", "and", "he", "there"} & t.all
    assert "governor" in t.content and "village" in t.content


def test_terms_numbers_are_figures_not_words(analyzer: Analyzer) -> None:
    t = analyzer.terms("Officials said 39 people were killed and 1,5 tonnes of fuel burned in 2023.", "en")
    assert t.numbers == frozenset({"39", "1.5"})  # decimal comma normalised to a point; a year is a date
    assert not t.numbers & t.content
    assert "39" not in t.content


def test_terms_strips_possessive_s(analyzer: Analyzer) -> None:
    t = analyzer.terms("Officials said Russia's defence ministry and the Legion’s fighters met.", "en")
    assert "russia" in t.names and "russia" in t.content
    assert "legion" in t.names
    assert not any("'" in w or "’" in w for w in t.all)


def test_terms_folds_case_and_diacritics(analyzer: Analyzer) -> None:
    a = analyzer.terms("Officials in Sébastopol said so.", "en")
    b = analyzer.terms("Officials in SEBASTOPOL said so.", "en")
    assert "sebastopol" in a.content and "sebastopol" in b.content


def test_terms_counts_words(analyzer: Analyzer) -> None:
    assert analyzer.terms("One two three four five.", "en").words == 5
    assert analyzer.terms("", "en") == Terms(frozenset(), frozenset(), frozenset(), 0)


def test_terms_russian(analyzer: Analyzer) -> None:
    t = analyzer.terms("Губернатор Вячеслав Гладков заявил, что в Шебекино погибли 2 человека.", "ru")
    assert {"gladkov", "vyacheslav", "shebekino"} <= t.names
    assert {"заявить", "погибнуть", "человек", "губернатор"} <= t.content  # lemmas
    assert "gubernator" not in t.names
    assert not {"что", "в"} & t.all  # Russian stop words
    assert t.numbers == frozenset({"2"})


def test_names_meet_across_scripts(analyzer: Analyzer) -> None:
    ru = analyzer.terms("Губернатор Вячеслав Гладков заявил, что в Грайвороне погибли 2 человека.", "ru")
    en = analyzer.terms("Governor Vyacheslav Gladkov said two people died in Grayvoron.", "en")
    assert {"gladkov", "vyacheslav"} <= ru.names & en.names


def test_all_is_the_union(analyzer: Analyzer) -> None:
    t = analyzer.terms("Peskov said 70 fighters died.", "en")
    assert t.all == t.content | t.names | t.numbers


# --------------------------------------------------------------------------- sentences


def test_sentences_split_and_normalise_whitespace(analyzer: Analyzer) -> None:
    text = "The governor spoke on Monday.  He said 3 people\n died! Is it true? Mr. Smith left."
    assert analyzer.sentences(text, "en") == [
        "The governor spoke on Monday.",
        "He said 3 people died!",
        "Is it true?",
        "Mr. Smith left.",  # an abbreviation does not end a sentence
    ]


def test_sentences_empty_and_unknown_language(analyzer: Analyzer) -> None:
    assert analyzer.sentences("   ", "en") == []
    assert analyzer.sentences("One sentence here. Another one there.", "unk") == [
        "One sentence here.", "Another one there."]


def test_sentences_russian(analyzer: Analyzer) -> None:
    out = analyzer.sentences("Город обстреляли в понедельник. Погибли два человека.", "ru")
    assert out == ["Город обстреляли в понедельник.", "Погибли два человека."]


# --------------------------------------------------------------------------- language


def test_language_detects_english_and_russian(analyzer: Analyzer) -> None:
    assert analyzer.language("The governor of the region said that two people were killed in the shelling.") == "en"
    assert analyzer.language("Губернатор области заявил, что в результате обстрела погибли два человека.") == "ru"


def test_language_hint_wins_when_supported(analyzer: Analyzer) -> None:
    english = "The governor of the region said that two people were killed in the shelling."
    assert analyzer.language(english, "ru-RU") == "ru"
    assert analyzer.language(english, "RU") == "ru"
    # an unsupported hint is ignored: detection decides
    assert analyzer.language("Губернатор области заявил, что погибли два человека.", "de") == "ru"


def test_language_falls_back_to_the_first_language(analyzer: Analyzer) -> None:
    assert analyzer.language("") == "en"
    assert analyzer.language("12345 67890") in analyzer.languages


def test_html_language() -> None:
    assert Analyzer.html_language('<!DOCTYPE html><html lang="ru-RU"><head>') == "ru"
    assert Analyzer.html_language("<html class='x' lang=EN>") == "en"
    assert Analyzer.html_language("<html><body>no lang</body></html>") is None


# --------------------------------------------------------------------------- years


def test_years() -> None:
    assert years("Crimea in 2014, the raids of 2023, the war of 1812 and 1999.") == {2014, 2023, 1812, 1999}
    assert years("70 killed, 123 wounded, 3000 evacuated, 20231 tonnes") == set()
    assert years("no years here") == set()


def test_language_weighs_only_languages_in_the_text_script(analyzer: Analyzer) -> None:
    assert analyzer.language("Der Gouverneur sagte am Montag, dass die Schule geschlossen sei.") == "en"
    assert analyzer.language("Губернатор області заявив у понеділок, що їх евакуювали") == "uk"
    assert analyzer.language("Губернатор области заявил в понедельник, что их эвакуировали") == "ru"


@pytest.mark.parametrize("sentence,lang", [
    ("Governor Vyacheslav Gladkov said 12 people were hurt in Shebekino on 2.5 Friday.", "en"),
    ("Губернатор Вячеслав Гладков сообщил, что 12 человек ранены в Шебекино.", "ru"),
    ("O'Brien's team met Müller and the AFP on Monday.", "en"),
    ("", "en"),
])
def test_packed_terms_read_back_equal(analyzer: Analyzer, sentence: str, lang: str) -> None:
    terms = analyzer.terms(sentence, lang)
    packed = analyzer.pack(terms)
    assert packed is not None and analyzer.unpack(packed) == terms


def test_packed_terms_of_another_analysis_or_form_are_ignored(analyzer: Analyzer) -> None:
    terms = analyzer.terms("Governor Gladkov said 12 people were hurt.", "en")
    packed = analyzer.pack(terms)
    assert packed is not None
    other = Analyzer(languages=("en", "ru"))  # another analysis: its terms could differ
    assert other.terms_version != analyzer.terms_version and other.unpack(packed) is None
    for broken in ("", "x", packed.replace("\x1e", "|"), packed.rsplit("\x1e", 1)[0] + "\x1eten", None):
        assert analyzer.unpack(broken) is None
    odd = Terms(frozenset({"a b"}), frozenset(), frozenset(), 2)  # a term the packed form cannot hold
    assert analyzer.pack(odd) is None


def test_a_wire_dateline_is_not_what_the_report_says() -> None:
    from workers.lexicon import strip_dateline
    assert strip_dateline("LONDON, June 28 (Wire) - Fighters took the HQ.") == "Fighters took the HQ."
    assert strip_dateline("МОСКВА, 2 июня (ТАСС) — Боевики заявили об атаке.") == "Боевики заявили об атаке."
    assert strip_dateline("WASHINGTON (AP) — The US said it was watching.") == "The US said it was watching."
    assert strip_dateline("The UK said - in a note - that it was so.") == "The UK said - in a note - that it was so."


@pytest.mark.parametrize(("sentence", "lang", "name"), [
    ("Ранее лидер РДК Денис Капустин заявил об этом.", "ru", "ranee"),  # everyday, though no dictionary entry
    ("Meanwhile the governor said nothing.", "en", "meanwhile"),
])
def test_an_everyday_word_opening_a_sentence_is_no_name(sentence: str, lang: str, name: str) -> None:
    terms = Analyzer().terms(sentence, lang)
    assert name not in terms.names
    assert name not in terms.worded


def test_a_rare_word_opening_a_sentence_is_a_name_but_maybe_a_word() -> None:
    terms = Analyzer().terms("Гладков заявил об этом в понедельник.", "ru")
    assert "gladkov" in terms.names and terms.lead == {"gladkov"}
    terms = Analyzer().terms("Антипутінські загони, за словами Гладкова, атакували Козинку.", "uk")
    assert terms.lead == {"antiputins'ki"} and "kozinku" in terms.names - terms.lead
