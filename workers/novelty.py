"""Is a claim new? The verdict on one claim against what the watch knows, and why.

Signals, each comparable across watches:
- **figures and names**: a figure or a name the watch has never seen makes a claim new ("39 killed"
  after "70 killed"; a new spokesman, a new village), not a known name in another case (Козинкой,
  ``workers.name_keys``). Dates are not figures (``workers.text``).
- **words**: the IDF-weighted share of the claim's content words that one known sentence carries
  (``novelty.known_similarity``); within one language only, since words do not cross languages.
- **meaning**: the cosine of the two sentences' embeddings (``workers.embed``), in one vector space
  for English, Russian and Ukrainian. Each encoder brings its calibration (the cosine at which a
  sentence is a restatement, in one language and across languages, and the cosine of "about the
  same thing"), read off its behaviour on general text; ``novelty.semantic_similarity`` scales it.
  A known sentence that packs several facts is also weighed by its parts (``workers.clauses``).
- **the known text's specifics**: a claim close to a known sentence (about the same thing, or half
  the word bar) whose every name and figure that known text (another article, the seed) already
  names restates that story: not a new fact. Across languages, when that text spells none of the
  claim's names and names none of its figures, it must be closer (``Calibration.related_unspelt``).
- **the day**: a known text that never names the day the claim tells of carries nothing of it
  (``workers.days``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from monitor.settings import NoveltySettings
from workers.days import Day, describe
from workers.knowledge import NAME_STEM, Knowledge, KnownSentence
from workers.text import Terms

DEFAULT_SEMANTIC = 0.75  # novelty.semantic_similarity's default: the encoders' calibration as it is


@dataclass(frozen=True)
class Decision:
    """A claim's verdict: new or known, in words, with the nearest known sentence and its similarity
    (in meaning when an encoder is on: it reads best to a person)."""

    new: bool
    why: str
    similarity: float = 0.0
    nearest: str | None = None
    signals: dict[str, float] | None = None  # what the verdict weighed (``signals``)
    brings: bool = False  # new for a figure or a name the watch has never seen (not for wording alone)


@dataclass
class _Evidence:
    lex: KnownSentence | None
    lex_sim: float
    sem: KnownSentence | None
    sem_sim: float
    best_part: float = 0.0  # the closest a part of a known sentence came (``part``), if closer than the whole

    def part(self, known: KnownSentence, vector: np.ndarray | None, knowledge: Knowledge, words: int) -> float:
        """The cosine between the claim (``words`` long) and the nearest part of ``known`` (``workers.clauses``)."""
        if vector is None or knowledge.parts is None:
            return 0.0
        sim = knowledge.parts.closest(known.text, vector, words)
        if sim > max(self.sem_sim, self.best_part):
            self.best_part = sim
        return sim

    def described(self) -> str:
        return (f"words {self.lex_sim:.2f}" + (f", meaning {self.sem_sim:.2f}" if self.sem is not None else "")
                + (f", of a clause {self.best_part:.2f}" if self.best_part else ""))


def specifics(terms: Terms) -> frozenset[str]:
    return terms.names | terms.numbers


def _spelt(known: KnownSentence, terms: Terms, knowledge: Knowledge) -> frozenset[str]:
    """The claim's names that the known sentence's text spells alike, by their first letters
    (Козинкой -> kozinkoy meets Kozinka): how a name is matched across languages."""
    stems = knowledge.source_stems(known.source)
    return frozenset(n for n in terms.names if n[:NAME_STEM] in stems)


def _carries(known: KnownSentence | None, terms: Terms, knowledge: Knowledge, source: str, lang: str) -> bool:
    """Does the text the known sentence comes from (another text than the claim's) name every name
    and figure of the claim (a claim that names none brings nothing that text lacks)? A name that is
    also a word of its language is how a restatement words its subject ("British officials" for
    "the UK's MoD", "Moscow" for the Kremlin) and need not be there. Across languages a name is
    matched by its spelling (``_spelt``), and such word-names ("Свобода России", "Минобороны") are
    translated, not spelt alike (``_confirmed`` says whether the spelling ties the two at all)."""
    if known is None or known.source == source:
        return False
    have = knowledge.source_terms(known.source)
    if known.lang == lang:
        return terms.numbers <= have and terms.names - have <= terms.worded
    return terms.numbers <= have and terms.names - _spelt(known, terms, knowledge) <= terms.worded | terms.lead


def _confirmed(known: KnownSentence, terms: Terms, knowledge: Knowledge, lang: str) -> bool:
    """Can the known text be seen to name what the claim names: the same language, no name at all,
    a name spelt alike or a figure? A claim whose names are all translated words ("Минобороны")
    may name someone the known text does not; "close" across languages must then be closer."""
    return known.lang == lang or not terms.names or bool(terms.numbers) or bool(_spelt(known, terms, knowledge))


def _part_close(ev: _Evidence, known: KnownSentence, vector: np.ndarray | None, knowledge: Knowledge, terms: Terms,
                bar: float) -> bool:
    """Is the claim close in meaning to a part of ``known``? The known sentence that carries a good
    share of the claim's words may pack other facts beside the one the claim restates ("crossed the
    border on 22 May, while also sending units into Grayvoron"): that part is what the claim's
    meaning is weighed against (``workers.clauses``). Only for "close": a part's cosine is too easily
    "about the same thing" to let shared words say "known" on their own."""
    return ev.part(known, vector, knowledge, terms.words) >= bar


def _bars(knowledge: Knowledge, novelty: NoveltySettings, known: KnownSentence | None, lang: str,
          confirmed: bool = True) -> tuple[float, float, float]:
    """(known, close, about the same thing) cosine bars for a claim in ``lang`` against ``known``;
    ``confirmed``: something beyond meaning ties the two (``_confirmed``)."""
    encoder = knowledge.encoder
    if encoder is None or known is None:
        return 2.0, 2.0, 2.0
    cal = encoder.calibration
    scale = novelty.semantic_similarity / DEFAULT_SEMANTIC
    if known.lang == lang:
        known_bar, related_bar = cal.known, cal.related
    else:
        known_bar, related_bar = cal.known_across, cal.related_across if confirmed else cal.related_unspelt
    return min(0.999, known_bar * scale), min(0.999, related_bar * scale), min(0.999, cal.related_across * scale)


RETOLD_MIN = 3  # claims of an article close to one known text that make it a retelling of that text


def retold_source(vectors: np.ndarray | None, lang: str, knowledge: Knowledge, novelty: NoveltySettings) -> str | None:
    """The known text an article retells, if any: the one whose sentences are the closest, and
    close (as close as 1 pair in 100 of one story), to RETOLD_MIN of its claims at least and to
    half of them (``vectors``: one row per
    sentence, zero for a sentence that is no claim). A restatement of the seed retells it whole,
    and a claim of it that is only about the same thing as the seed, naming nothing it lacks, is
    one more of its facts in other words, not news."""
    if vectors is None or knowledge.encoder is None:
        return None
    votes: Counter[str] = Counter()
    claims = 0
    for vector in vectors:
        if not vector.any():
            continue
        claims += 1
        (same, same_sim), (other, other_sim) = knowledge.nearest_vectors(vector, lang)
        best, sim = (same, same_sim) if same_sim >= other_sim else (other, other_sim)
        # close as 1 pair in 100 of one story: "close" in one language, a translation across two
        if best is not None and sim >= _bars(knowledge, novelty, best, lang)[0 if best.lang != lang else 1]:
            votes[best.source] += 1
    if not votes:
        return None
    text, count = votes.most_common(1)[0]
    return text if count >= RETOLD_MIN and 2 * count >= claims else None


def signals(terms: Terms, vector: np.ndarray | None, knowledge: Knowledge, lang: str,
            source: str) -> dict[str, float]:
    """Every signal of a claim against the watch's knowledge, each in [0, 1] or a small count."""
    speaks = knowledge.speaks(lang)
    lex, lex_sim = knowledge.nearest(terms) if speaks else (None, 0.0)
    _, spec_sim = knowledge.nearest(terms, specifics_only=True)
    (same, same_sim), (other, other_sim) = knowledge.nearest_vectors(vector, lang)
    spec = specifics(terms)
    best_sem = same if same_sim >= other_sim else other
    return {
        "words": lex_sim,
        "names_figures": spec_sim,
        "meaning": same_sim,
        "meaning_across": other_sim,
        "carried_words": float(_carries(lex, terms, knowledge, source, lang)),
        "carried_meaning": float(_carries(best_sem, terms, knowledge, source, lang)),
        "specifics": float(min(len(spec), 6)),
        "new_names": float(min(len([n for n in terms.names if n not in knowledge.df]), 3)),
        "speaks": float(speaks),
    }


def decide(terms: Terms, vector: np.ndarray | None, knowledge: Knowledge, novelty: NoveltySettings,
           lang: str = "en", source: str = "", record: bool = False, days: list[Day] | None = None,
           retold: str | None = None) -> Decision:
    """Known when one known sentence carries the claim: most of its weighted words (same language),
    or its meaning; or something close whose text already names all the claim names (in an article
    that ``retold`` a known text, about the same thing as that text is close enough). Never known
    when the claim brings a figure or a name the watch has never seen, nor by a known sentence whose
    text never names the day the claim tells of (``workers.days``)."""
    speaks = knowledge.speaks(lang)
    lex, lex_sim = knowledge.nearest(terms, specifics_only=not speaks)
    sem, sem_sim = knowledge.nearest_vector(vector)
    ev = _Evidence(lex, lex_sim, sem, sem_sim)

    def dated(known: KnownSentence | None) -> bool:  # its text names the claim's days (or it names none)
        return known is None or not days or knowledge.day_index.names(days, known.source)

    near = sem or lex
    similarity = sem_sim if sem is not None else lex_sim
    nearest = near.text if near else None

    recorded = signals(terms, vector, knowledge, lang, source) if record else None

    def verdict(new: bool, why: str, brings: bool = False) -> Decision:
        return Decision(new, why, similarity, nearest, recorded, brings)

    new_figures = knowledge.unknown_numbers(terms)
    if new_figures:
        return verdict(True, f"new figure(s) {', '.join(sorted(new_figures))}", brings=True)
    # names compare by spelling only within a language the watch reads (an inflected, transliterated
    # Кремля is not Kremlin); across languages, meaning and figures decide
    new_names = sorted(n for n in terms.names - terms.lead - terms.worded  # (Козинкой is Козинка: ``inflects``)
                       if n not in knowledge.df and not knowledge.name_keys.inflects(n)) if speaks else []
    known_bar, related_bar, about_bar = _bars(knowledge, novelty, sem, lang)
    # the closest in this language and the closest in another, each against its own bars
    candidates = [(k, sim, *_bars(knowledge, novelty, k, lang, _confirmed(k, terms, knowledge, lang))[:2])
                  for k, sim in knowledge.nearest_vectors(vector, lang, days) if k is not None]
    translated = any(k.lang != lang and sim >= bar for k, sim, bar, _ in candidates)
    if new_names and not translated:  # (a translation's names are spelt, and inflected, otherwise)
        return verdict(True, f"names the watch has never seen: {', '.join(new_names)}", brings=True)
    # with an encoder, shared words say "known" only where the meaning is close too ("Lukashenko said
    # Prigozhin was in Belarus" shares most words with "Lukashenko has been president of Belarus");
    # in a language the encoder was not trained on, its meaning is no judge and words decide alone
    agrees = sem is None or sem_sim >= about_bar or not knowledge.encoder.reads(lang)
    if speaks and lex_sim >= novelty.known_similarity and agrees and dated(lex):
        return verdict(False, f"a known sentence says it ({ev.described()})")
    for k, sim, bar, _ in candidates:
        if sim >= bar:
            return verdict(False, f"a known sentence{'' if k.lang == lang else ' in another language'} "
                                  f"means it ({ev.described()})")
    if not speaks and lex is not None and len(specifics(terms)) >= 2 and lex_sim >= 0.99 and sem is None:
        return verdict(False, f"a known sentence (in another language) names all it names ({ev.described()})")
    # "close" in words counts where the meaning is close too (with an encoder): names alone tie
    # "Putin said X" to any known text about Putin
    close_words = (speaks and lex is not None and lex_sim >= novelty.known_similarity / 2 and dated(lex)
                   and (sem is None or sem_sim >= related_bar or _part_close(ev, lex, vector, knowledge, terms,
                                                                          related_bar)))
    if (close_words and _carries(lex, terms, knowledge, source, lang)) or any(
            sim >= close and _carries(k, terms, knowledge, source, lang) for k, sim, _, close in candidates):
        return verdict(False, f"a known text names all it names, and says something close ({ev.described()})")
    if retold is not None and (
            (speaks and lex is not None and lex.source == retold and lex_sim >= novelty.known_similarity / 2
             and dated(lex) and sem_sim >= about_bar and _carries(lex, terms, knowledge, source, lang))
            or any(k.source == retold and sim >= about_bar and _carries(k, terms, knowledge, source, lang)
                   for k, sim, _, _ in candidates)):
        return verdict(False, f"the article retells a known text ({retold}), and this is about the same thing "
                              f"and names nothing it lacks ({ev.described()})")
    other_day = f"; the nearest's text never names {describe(days)}" if days and near and not dated(near) else ""
    return verdict(True, f"no known sentence carries it ({ev.described()}){other_day}")
