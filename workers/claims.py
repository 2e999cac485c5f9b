"""sentences -> claims, and the verdict on each: new, known, or not a claim at all.

A sentence is a claim candidate when it is long enough, is not a question, is not the headline,
and reads as a report: it names a source or a time of its own (``workers.lexicon``), and not only
earlier years. Background ("X lies near the border", "the war began in 2022") is not news.
A candidate is *new* when the watch's knowledge does not cover it: no known sentence carries most
of its (IDF-weighted) terms, or it brings a figure the watch has never seen ("39 killed" after
"70 killed"). Each judged sentence joins the knowledge at once, so an article never alerts the
same fact twice. README "How novelty is decided" explains the knobs (``NoveltySettings``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monitor.models import Claim, Known
from monitor.settings import NoveltySettings
from workers.attribution import attribution
from workers.knowledge import Knowledge, KnownSentence
from workers.lexicon import reported
from workers.text import Analyzer, Terms, years


@dataclass(frozen=True)
class Verdict:
    sentence: str
    verdict: str  # new | known | short | question | headline | background
    reason: str
    similarity: float = 0.0
    nearest: str | None = None
    attribution: str | None = None
    terms: Terms | None = None

    @property
    def is_new(self) -> bool:
        return self.verdict == "new"

    def claim(self) -> Claim:
        near = Known(self.nearest, self.similarity) if self.nearest else None
        return Claim(text=self.sentence, attribution=self.attribution, nearest_known=near)


def _not_a_claim(sentence: str, lang: str, terms: Terms, title_terms: Terms, novelty: NoveltySettings,
                 article_year: int | None) -> tuple[str, str] | None:
    if terms.words < novelty.min_words:
        return "short", f"{terms.words} words (< {novelty.min_words})"
    if sentence.rstrip().endswith("?"):
        return "question", "a question, not an assertion"
    if terms.content and len(terms.content & title_terms.content) / len(terms.content) >= 0.9:
        return "headline", "repeats the headline"
    mentioned = years(sentence)
    if article_year and mentioned and max(mentioned) < article_year:
        return "background", f"refers only to earlier years ({', '.join(map(str, sorted(mentioned)))})"
    if not reported(sentence, lang):
        return "background", "names no source and no time of its own"
    return None


def _specifics(terms: Terms) -> frozenset[str]:
    return terms.names | terms.numbers


def _carries(known: KnownSentence, terms: Terms, knowledge: Knowledge, source: str) -> bool:
    """Does the text the known sentence comes from (another text than the claim's) name every name
    and figure of the claim?"""
    return known.source != source and _specifics(terms) <= knowledge.source_terms(known.source)


def _decide_across_languages(terms: Terms, knowledge: Knowledge) -> tuple[bool, str, float, str | None]:
    """Known when one known sentence names every name and figure the claim names (two at least),
    and the claim brings no unseen figure. Words cannot be compared across languages (yet)."""
    item, sim = knowledge.nearest(terms, specifics_only=True)
    near = item.text if item else None
    new_figures = knowledge.unknown_numbers(terms)
    if new_figures:
        return True, f"new figure(s) {', '.join(sorted(new_figures))}", sim, near
    if len(_specifics(terms)) >= 2 and sim >= 0.99:
        return False, "a known sentence (in another language) names all it names", sim, near
    return True, f"no known sentence names all it names (names and figures {sim:.2f})", sim, near


def _decide(terms: Terms, vector: np.ndarray | None, knowledge: Knowledge, novelty: NoveltySettings,
            lang: str = "en", source: str = "") -> tuple[bool, str, float, str | None]:
    """(is_new, why, similarity, nearest text).

    Known when one known sentence carries the claim: it shares most of its weighted words
    (``known_similarity``) or, with embeddings, its meaning (``semantic_similarity``); or it says
    something close (half those bars) and the text it comes from already names every person, place,
    time and figure the claim names: a restatement of that story, not a new fact.
    Never known when the claim brings a figure or a name the watch has never seen.
    """
    if not knowledge.speaks(lang):  # hardly any known sentence in this language: compare names and figures
        return _decide_across_languages(terms, knowledge)
    lex_item, lex_sim = knowledge.nearest(terms)
    sem_item, sem_sim = knowledge.nearest_vector(vector)
    new_figures = knowledge.unknown_numbers(terms)
    if sem_item is not None:  # report the nearest in meaning: it reads best to a person
        similarity, near = sem_sim, sem_item.text
    else:
        similarity, near = lex_sim, (lex_item.text if lex_item else None)
    if new_figures:
        return True, f"new figure(s) {', '.join(sorted(new_figures))}", similarity, near
    new_names = sorted(n for n in terms.names if n not in knowledge.df)
    if new_names:
        return True, f"names the watch has never seen: {', '.join(new_names)}", similarity, near
    how = f"words {lex_sim:.2f}" + (f", meaning {sem_sim:.2f}" if sem_item is not None else "")
    if lex_sim >= novelty.known_similarity or sem_sim >= novelty.semantic_similarity:
        return False, f"a known sentence says it ({how})", similarity, near
    by_words = lex_item is not None and lex_sim >= novelty.known_similarity / 2
    by_meaning = sem_item is not None and sem_sim >= novelty.semantic_similarity / 1.5
    same_names = (by_words and _carries(lex_item, terms, knowledge, source)) or (  # type: ignore[arg-type]
        by_meaning and _carries(sem_item, terms, knowledge, source))  # type: ignore[arg-type]
    if same_names:
        return False, f"a known sentence names all it names, in like words ({how})", similarity, near
    return True, f"no known sentence carries it ({how})", similarity, near


def judge(sentences: list[str], lang: str, title: str, knowledge: Knowledge, analyzer: Analyzer,
          novelty: NoveltySettings, article_year: int | None, source: str, *,
          terms: list[Terms] | None = None, vectors: np.ndarray | None = None) -> list[Verdict]:
    """The verdict on each sentence, in order; each (but the headline) is added to ``knowledge``.

    ``terms`` and ``vectors`` (one per sentence) may be computed beforehand, outside the watch's lock.
    """
    title_terms = analyzer.terms(title, lang) if title else Terms(frozenset(), frozenset(), frozenset(), 0)
    if vectors is None and knowledge.encoder is not None:
        vectors = knowledge.encoder.encode(sentences)
    raw = terms if terms is not None else [analyzer.terms(s, lang) for s in sentences]
    out: list[Verdict] = []
    for i, sentence in enumerate(sentences):
        vector = vectors[i] if vectors is not None else None
        terms_i = knowledge.normalise(raw[i])
        skip = _not_a_claim(sentence, lang, terms_i, title_terms, novelty, article_year)
        if skip:
            out.append(Verdict(sentence, skip[0], skip[1], terms=terms_i))
        else:
            is_new, why, similarity, near = _decide(terms_i, vector, knowledge, novelty, lang, source)
            out.append(Verdict(sentence, "new" if is_new else "known", why, similarity, near,
                               attribution(sentence, lang) if is_new else None, terms_i))
        if out[-1].verdict != "headline":  # the headline sums up the body; it is not a known sentence itself
            knowledge.add(sentence, lang, source, "article", terms_i, vector)
    return out
