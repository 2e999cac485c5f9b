"""The default encoder (USE multilingual, shipped with the light install) and the verdicts it feeds:
a restatement across languages is known, a new figure stays new, a keyword-less entry with the
story's words is worth a fetch."""

from __future__ import annotations

from datetime import date

import pytest

from monitor.errors import ConfigError
from monitor.profile import admits, stems, term_stems
from monitor.settings import NoveltySettings
from workers import embed
from workers.knowledge import Knowledge
from workers.novelty import _carries, _confirmed, decide
from workers.text import Analyzer

SEED = [
    "Kremlin spokesman Dmitry Peskov said on Monday that President Vladimir Putin had been informed of the attack.",
    "Governor Vyacheslav Gladkov said that 70 fighters were killed near the village of Kozinka.",
    "The volunteers said in a video released on Thursday that they planned further attacks on Russian territory.",
]


@pytest.fixture(scope="module")
def encoder() -> embed.Encoder:
    enc = embed.load("use")
    assert enc is not None
    return enc


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


def _knowledge(analyzer: Analyzer, encoder: embed.Encoder) -> Knowledge:
    k = Knowledge("w", analyzer, encoder)
    for s in SEED:
        k.add(s, "en", "seed:s.txt", "seed")
    return k


def _judge(text: str, lang: str, k: Knowledge, analyzer: Analyzer, encoder: embed.Encoder):
    return decide(k.normalise(analyzer.terms(text, lang)), encoder.encode([text])[0], k, NoveltySettings(), lang,
                  "https://news.example/a")


def test_translations_are_closer_than_unrelated_sentences(encoder: embed.Encoder) -> None:
    en, ru, other = encoder.encode([
        SEED[0],
        "Пресс-секретарь Кремля Дмитрий Песков заявил в понедельник, что президенту Путину доложили о нападении.",
        "The football club signed a new striker from Brazil for the coming season.",
    ])
    assert abs(float(en @ en) - 1.0) < 1e-5
    assert float(en @ ru) > encoder.calibration.known_across > float(en @ other)


def test_a_restatement_in_russian_is_known_and_a_new_figure_is_new(analyzer: Analyzer, encoder) -> None:
    k = _knowledge(analyzer, encoder)
    d = _judge("Пресс-секретарь Кремля Дмитрий Песков заявил в понедельник, что президенту Путину доложили "
               "о нападении.", "ru", k, analyzer, encoder)
    assert not d.new and "another language" in d.why and d.nearest == SEED[0]
    d = _judge("Губернатор Вячеслав Гладков заявил, что возле села Козинка погибли 39 боевиков.", "ru", k, analyzer,
               encoder)
    assert d.new and "39" in d.why


def test_an_encoder_that_is_not_installed_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    assert embed.resolve("auto") == "use" and embed.resolve("off") is None
    with pytest.raises(ConfigError, match="service.embeddings: unknown"):
        embed.resolve("minilm")
    monkeypatch.setattr(embed, "available", lambda kind: False)
    with pytest.raises(ConfigError, match="service.embeddings: 'use' is not installed"):
        embed.resolve("auto")


def test_profile_stems_meet_inflected_forms() -> None:
    profile = term_stems(["белгородский", "fighter", "raid", "grayvoron", "ab"])
    assert "ab" not in profile
    assert admits("Бойцы вошли в Белгородскую область: a raid by fighters", profile, need=3)
    assert not admits("Fighters of the local club", profile, need=3)  # one stem is not the story
    assert not admits("anything", set())
    assert stems("Fighters' RAID") == {"fight", "raid"}



class _Untrained:
    """An encoder for the protocol whose cosine says nothing: every text gets a vector of its own,
    orthogonal to every other (as a language it was never trained on fares, at worst)."""

    name = "untrained"
    dim = 64
    calibration = embed.UniversalSentenceEncoder.calibration

    def __init__(self, reads: set[str]) -> None:
        self._reads = reads
        self._seen: dict[str, int] = {}

    def reads(self, lang: str) -> bool:
        return lang in self._reads

    def encode(self, texts: list[str]):
        import numpy as np

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i, self._seen.setdefault(t, len(self._seen) % self.dim)] = 1.0
        return out


def test_words_decide_alone_in_a_language_the_encoder_was_not_trained_on(analyzer: Analyzer) -> None:
    seed = ["Губернатор Вячеслав Гладков повідомив у понеділок, що бійці РДК увійшли до села Козинка.",
            "Речник Кремля Дмитро Пєсков заявив, що диверсантів витіснять з області.",
            "Міністерство оборони Росії заявило у вівторок, що знищило чотири бронемашини."]
    claim = "Бійці РДК увійшли до села Козинка, повідомив губернатор Вячеслав Гладков."
    for reads, new in (({"uk"}, True), (set(), False)):
        enc = _Untrained(reads)
        k = Knowledge("w", analyzer, enc)
        for s in seed:
            k.add(s, "uk", "seed:s.txt", "seed", vector=enc.encode([s])[0])
        d = decide(k.normalise(analyzer.terms(claim, "uk")), enc.encode([claim])[0], k, NoveltySettings(), "uk",
                   "https://news.example/a")
        # trusted, a cosine of 0 vetoes the shared words; untrained, the words say it is known
        assert d.new is new, (reads, d.why)


def test_a_claim_s_day_picks_the_nearest_known_text_that_names_it(analyzer: Analyzer, encoder) -> None:
    """The closest known sentence whose text never names the claim's day is passed over for the
    closest one whose text does (an earlier article that told the same day's news)."""
    k = Knowledge("w", analyzer, encoder)
    undated = "The mercenaries had pulled out of the city of Rostov-on-Don, the governor said."
    k.add(undated, "en", "seed:s.txt", "seed")
    k.day_index.published("https://news.example/sunday", date(2023, 6, 25))
    told = "Wagner's fighters have left Rostov-on-Don, the region's governor, Vasily Golubev, said early on Sunday."
    k.add(told, "en", "https://news.example/sunday", "article")
    claim = "By early Sunday, the governor said, the mercenaries had pulled out of the city of Rostov-on-Don."
    k.day_index.published("https://news.example/later", date(2023, 6, 28))
    vector = encoder.encode([claim])[0]
    assert k.nearest_vectors(vector, "en")[0][0].text == undated
    assert k.nearest_vectors(vector, "en", k.day_index.days(claim, "https://news.example/later"))[0][0].text == told


def test_a_name_that_is_a_word_is_translated_not_spelt_alike(analyzer: Analyzer, encoder) -> None:
    """Across languages the known text need not spell "Свобода России" as it spells "Kozinka"; a claim
    whose only names are such words is left to its meaning."""
    k = Knowledge("w", analyzer, encoder)
    for s in ("The Freedom of Russia Legion said it had crossed the border and captured the village of Kozinka.",
              *SEED):
        k.add(s, "en", "seed:s.txt", "seed")
    terms = analyzer.terms("Легион «Свобода России» заявил, что захватил село Козинка.", "ru")
    assert {"svoboda", "rossii"} <= terms.worded and "kozinka" not in terms.worded
    known = k.items[0]
    assert _carries(known, k.normalise(terms), k, "https://news.example/ru", "ru")
    only_words = k.normalise(analyzer.terms("«Свобода России» заявила, что перешла границу.", "ru"))
    assert _carries(known, only_words, k, "https://news.example/ru", "ru")  # left to its meaning
    assert not _confirmed(known, only_words, k, "ru") and _confirmed(known, k.normalise(terms), k, "ru")
    elsewhere = analyzer.terms("Легион «Свобода России» заявил, что захватил село Глотово.", "ru")
    assert not _carries(known, k.normalise(elsewhere), k, "https://news.example/ru", "ru")


class _Placed:
    """An encoder for the protocol that puts each text at a chosen cosine to the first text it saw."""

    name = "placed"
    dim = 8
    calibration = embed.UniversalSentenceEncoder.calibration

    def __init__(self, cosines: dict[str, float]) -> None:
        self._cosines = cosines

    def reads(self, lang: str) -> bool:
        return True

    def encode(self, texts: list[str]):
        import numpy as np

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            c = self._cosines.get(t, 1.0)
            out[i, 0], out[i, 1] = c, (1 - c * c) ** 0.5
        return out


@pytest.mark.parametrize(("claim", "cosine", "new"), [
    # its only name is a translated word: meaning alone ties it, so "close" must be closer (1 in 30)
    ("Вчера Минобороны признало, что применило на своей земле вертолёты и тяжёлую огнемётную систему.", 0.55, False),
    ("Вчера Минобороны заявило, что передаст тяжёлую технику другим подразделениям в ближайшие дни.", 0.44, True),
    # a name the known text spells alike (Kozinka) ties it: 1 in 10 across languages is close enough
    ("Вчера Минобороны заявило, что бои у села Козинка продолжались до утра и что технику отвели.", 0.44, False),
])
def test_close_across_languages_needs_more_meaning_when_no_name_is_spelt_alike(
        analyzer: Analyzer, claim: str, cosine: float, new: bool) -> None:
    known = ("Russia's defence ministry said it used helicopters and a heavy flamethrower system "
             "near the village of Kozinka on its own territory.")
    enc = _Placed({claim: cosine})
    cal = enc.calibration
    assert cal.related_across < cosine < cal.known_across
    k = Knowledge("w", analyzer, enc)
    k.add(known, "en", "seed:s.txt", "seed", vector=enc.encode([known])[0])
    d = decide(k.normalise(analyzer.terms(claim, "ru")), enc.encode([claim])[0], k, NoveltySettings(), "ru",
               "https://news.example/ru")
    assert d.new is new, d.why


@pytest.mark.parametrize(("claim", "new"), [
    # restates the part after the dateline-like opening: close to that part, though not to the whole
    ('Its founder claims to command 25,000 men prepared to die, and calls the operation a "march of justice" '
     "rather than a coup.", False),
    # the same words, another fact: no part of the known sentence is close to it
    ("Its founder claims that 25,000 men have gone back to their camps and that the march is over.", True),
])
def test_a_claim_may_restate_one_part_of_a_long_known_sentence(analyzer: Analyzer, encoder, claim: str,
                                                               new: bool) -> None:
    k = Knowledge("w", analyzer, encoder)
    k.add('In a series of audio messages overnight, Prigozhin said 25,000 Wagner fighters were ready to die, and '
          'described their move as a "march of justice" rather than a military coup.', "en", "seed:s.txt", "seed")
    d = _judge(claim, "en", k, analyzer, encoder)
    assert d.new is new, d.why


@pytest.mark.parametrize(("claim", "new"), [
    ("Гладков заявил во вторник, что легион установил контроль над Козинкой и вошёл в Грайворон.", False),
    ("Гладков заявил во вторник, что легион установил контроль над Козинкой и Глотовом.", True),  # Глотово
])
def test_a_name_in_another_case_is_no_new_name(analyzer: Analyzer, encoder, claim: str, new: bool) -> None:
    k = Knowledge("w", analyzer, encoder)
    k.add("Губернатор Вячеслав Гладков сообщил во вторник, что легион установил контроль над селом Козинка "
          "и вошёл в Грайворон.", "ru", "seed:s.txt", "seed")
    d = _judge(claim, "ru", k, analyzer, encoder)
    assert d.new is new, d.why


def test_an_article_retells_the_known_text_most_of_its_claims_are_close_to() -> None:
    import numpy as np

    from workers.novelty import RETOLD_MIN, retold_source

    a = Analyzer(("en",))
    seed = [f"Known sentence number {i} about the raid." for i in range(4)]
    enc = _Placed({})
    k = Knowledge("w", a, enc)

    def vectors(cosines: list[float]):  # (claim i at cosine c to seed sentence i % 4; 0: no claim)
        out = np.zeros((len(cosines), enc.dim), dtype=np.float32)
        for i, c in enumerate(cosines):
            if c:
                out[i, 2 + i % 4], out[i, 1] = c, (1 - c * c) ** 0.5  # seed i is axis 2 + i
        return out

    for i, s in enumerate(seed):
        v = np.zeros(8, dtype=np.float32)
        v[2 + i] = 1.0
        k.add(s, "en", "seed:s.txt", "seed", vector=v)
    close = enc.calibration.related + 0.05
    assert RETOLD_MIN == 3
    assert retold_source(vectors([close, close, close, 0.0]), "en", k, NoveltySettings()) == "seed:s.txt"
    # two are not a retelling, nor three of seven
    assert retold_source(vectors([close, close, 0.0, 0.0]), "en", k, NoveltySettings()) is None
    far = enc.calibration.related - 0.2
    assert retold_source(vectors([close, close, close, far, far, far, far]), "en", k, NoveltySettings()) is None
    assert retold_source(None, "en", k, NoveltySettings()) is None
    # across languages a claim votes as a translation (1 in 100), not as "about the same thing"
    across = Knowledge("w", a, enc)
    for i, s in enumerate(seed):
        v = np.zeros(8, dtype=np.float32)
        v[2 + i] = 1.0
        across.add(s, "ru", "seed:s.txt", "seed", vector=v)
    loose = (enc.calibration.related_across + enc.calibration.known_across) / 2
    assert retold_source(vectors([loose] * 3), "en", across, NoveltySettings()) is None
    assert retold_source(vectors([enc.calibration.known_across + 0.05] * 3), "en", across,
                         NoveltySettings()) == "seed:s.txt"


@pytest.mark.parametrize(("retold", "new"), [("seed:s.txt", False), (None, True), ("https://other.example/a", True)])
def test_in_an_article_that_retells_a_known_text_about_the_same_thing_is_close_enough(
        analyzer: Analyzer, retold: str | None, new: bool) -> None:
    known = "The Legion claimed to have crossed the border and overrun Kozinka, while sending units into Grayvoron."
    claim = "In the first raid, the Legion says, its fighters crossed on 22 May and pushed into Grayvoron."
    enc = _Placed({claim: 0.5})
    assert enc.calibration.related_across < 0.5 < enc.calibration.related  # about the same thing, not close
    k = Knowledge("w", analyzer, enc)
    k.add(known, "en", "seed:s.txt", "seed", vector=enc.encode([known])[0])
    d = decide(k.normalise(analyzer.terms(claim, "en")), enc.encode([claim])[0], k, NoveltySettings(), "en",
               "https://news.example/a", retold=retold)
    assert d.new is new, d.why
    if not new:
        assert "retells a known text (seed:s.txt)" in d.why
