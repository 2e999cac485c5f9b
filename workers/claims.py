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

from monitor.models import Claim, Known
from monitor.settings import NoveltySettings
from workers.attribution import attribution
from workers.knowledge import Knowledge
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


def judge(sentences: list[str], lang: str, title: str, knowledge: Knowledge, analyzer: Analyzer,
          novelty: NoveltySettings, article_year: int | None, source: str) -> list[Verdict]:
    """The verdict on each sentence, in order; each (but the headline) is added to ``knowledge``."""
    title_terms = analyzer.terms(title, lang) if title else Terms(frozenset(), frozenset(), frozenset(), 0)
    out: list[Verdict] = []
    for sentence in sentences:
        terms = knowledge.normalise(analyzer.terms(sentence, lang))
        skip = _not_a_claim(sentence, lang, terms, title_terms, novelty, article_year)
        if skip:
            out.append(Verdict(sentence, skip[0], skip[1], terms=terms))
            if skip[0] != "headline":  # the headline sums up the body; it is not a known sentence itself
                knowledge.add(sentence, lang, source, "article", terms)
            continue
        nearest, similarity = knowledge.nearest(terms)
        new_figures = knowledge.unknown_numbers(terms)
        near_text = nearest.text if nearest else None
        if similarity >= novelty.known_similarity and not new_figures:
            out.append(Verdict(sentence, "known", f"covered {similarity:.2f} by a known sentence",
                               similarity, near_text, terms=terms))
        else:
            why = (f"new figure(s) {', '.join(sorted(new_figures))}" if similarity >= novelty.known_similarity
                   else f"best known coverage {similarity:.2f} < {novelty.known_similarity}")
            out.append(Verdict(sentence, "new", why, similarity, near_text, attribution(sentence, lang), terms))
        knowledge.add(sentence, lang, source, "article", terms)
    return out
