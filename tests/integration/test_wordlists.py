"""workers.wordlists: the memory-mapped tries give exactly what simplemma and wordfreq give."""

from __future__ import annotations

from pathlib import Path

import pytest
import simplemma
import wordfreq

from workers.wordlists import Wordlists

ODD = ["2023", "70", "3.5", "co-op", "rock'n'roll", "don’t", "New York", "Гладков", "x", "Белгородской",
       "обстрілу", "naïve", "ÉCOLE", "", "  ", "belgorod", "shebekino", "kozinka"]


def _words(lang: str) -> list[str]:
    top = wordfreq.top_n_list(lang, 1500)
    return top + [w.capitalize() for w in top[::7]] + [w + "s" for w in top[::11]] + ODD


@pytest.mark.parametrize("lang", ["en", "uk"])
def test_the_same_lemmas_membership_and_frequencies(tmp_path: Path, lang: str) -> None:
    lists = Wordlists(tmp_path)
    for word in _words(lang):
        assert lists.zipf(word, lang) == wordfreq.zipf_frequency(word, lang), word
        if word.strip():
            assert lists.lemmatize(word, lang) == simplemma.lemmatize(word, lang=lang), word
            assert lists.is_known(word.lower(), lang) == simplemma.is_known(word.lower(), lang=lang), word


def test_built_once_then_mapped_from_the_cache(tmp_path: Path) -> None:
    Wordlists(tmp_path).load("en")
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.marisa"))
    assert [f.split("/")[1] for f in files] == ["en.marisa", "en.marisa"]  # simplemma's and wordfreq's
    again = Wordlists(tmp_path)
    assert again.zipf("the", "en") == wordfreq.zipf_frequency("the", "en")
    assert again.lemmatize("geese", "en") == "goose"
    assert not list(tmp_path.rglob("*.tmp"))


def test_an_unwritable_cache_keeps_the_lists_in_memory(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    lists = Wordlists(blocked / "cache")
    assert lists.zipf("news", "en") == wordfreq.zipf_frequency("news", "en")
    assert lists.lemmatize("went", "en") == simplemma.lemmatize("went", lang="en")


def test_language_guesses_match_simplemma(tmp_path: Path) -> None:
    lists = Wordlists(tmp_path)
    for text in ("Губернатор Белгородской области сообщил, что в результате обстрела пострадали люди.",
                 "Губернатор Бєлгородської області повідомив, що внаслідок обстрілу постраждали люди.",
                 "The governor said on Tuesday that people were hurt."):
        assert lists.langdetect(text, ("ru", "uk")) == simplemma.langdetect(text, lang=("ru", "uk"))


def test_a_damaged_file_is_built_again(tmp_path: Path) -> None:
    Wordlists(tmp_path).load("en")
    for path in tmp_path.rglob("en.marisa"):
        path.write_bytes(path.read_bytes()[:1000])  # cut short
    lists = Wordlists(tmp_path)
    assert lists.zipf("news", "en") == wordfreq.zipf_frequency("news", "en")
    assert lists.lemmatize("geese", "en") == "goose"
    assert all(p.stat().st_size > 1000 for p in tmp_path.rglob("en.marisa"))
