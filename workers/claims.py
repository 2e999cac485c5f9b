"""sentences -> claims, and the verdict on each: new, known, or not a claim at all.

A sentence is a claim candidate when it is long enough, is not a question, is not the headline,
and reads as a report: it names a source or a time of its own (``workers.lexicon``), and not only
earlier years. Background ("X lies near the border", "the war began in 2022") is not news.
A candidate is *new* when the watch's knowledge does not cover it: no known sentence carries most
of its (IDF-weighted) terms, or it brings a figure the watch has never seen ("39 killed" after
"70 killed"). Before any is judged, the article is read whole for the known text it retells, if
any (``novelty.retold_source``). Each judged sentence joins the knowledge at once, so an article
never alerts the same fact twice. README "How novelty is decided" explains the knobs (``NoveltySettings``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monitor.models import Claim, Known
from monitor.settings import NoveltySettings
from workers.attribution import attribution
from workers.knowledge import Knowledge
from workers.lexicon import recaps, reported, strip_dateline
from workers.novelty import decide, retold_source
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
    signals: dict[str, float] | None = None  # with ``record``: what the verdict weighed

    @property
    def is_new(self) -> bool:
        return self.verdict == "new"

    def claim(self) -> Claim:
        near = Known(self.nearest, self.similarity) if self.nearest else None
        return Claim(text=self.sentence, attribution=self.attribution, nearest_known=near)


def _not_a_claim(sentence: str, lang: str, terms: Terms, heads: list[Terms], novelty: NoveltySettings,
                 article_year: int | None, first_hand: bool = False) -> tuple[str, str] | None:
    if terms.words < novelty.min_words:
        return "short", f"{terms.words} words (< {novelty.min_words})"
    if sentence.rstrip().endswith("?"):
        return "question", "a question, not an assertion"
    if terms.content and any(len(terms.content & h.content) / len(terms.content) >= 0.9 for h in heads):
        return "headline", "repeats the headline"
    mentioned = years(sentence)
    if article_year and mentioned and max(mentioned) < article_year:
        return "background", f"refers only to earlier years ({', '.join(map(str, sorted(mentioned)))})"
    if not reported(sentence, lang, first_hand):
        return "background", ("tells a habit or only an earlier time" if first_hand else
                              "names no source and no time of its own")
    return None


def candidates(sentences: list[str], terms: list[Terms], lang: str, title: str, analyzer: Analyzer,
               novelty: NoveltySettings, article_year: int | None, first_hand: bool = False) -> list[bool]:
    """Which sentences may be claims (``judge`` decides; only these need a vector)."""
    heads = [analyzer.terms(title, lang)] if title else []
    return [_not_a_claim(s, lang, t, heads, novelty, article_year, first_hand) is None
            for s, t in zip(sentences, terms, strict=True)]


def judge(sentences: list[str], lang: str, title: str, knowledge: Knowledge, analyzer: Analyzer,
          novelty: NoveltySettings, article_year: int | None, source: str, *,
          terms: list[Terms] | None = None, vectors: np.ndarray | None = None, record: bool = False,
          first_hand: bool = False) -> list[Verdict]:
    """The verdict on each sentence, in order; each (but the headline) is added to ``knowledge``.

    ``terms`` and ``vectors`` (one per sentence) may be computed beforehand, outside the watch's lock.
    ``first_hand``: the text is its source's own statement (``lexicon.reported``).
    """
    # the headline sums up the body; its terms spelt as the sentences' are (``normalise``)
    heads = [knowledge.normalise(analyzer.terms(title, lang))] if title else []
    raw = terms if terms is not None else [analyzer.terms(strip_dateline(s), lang) for s in sentences]
    if vectors is None and knowledge.encoder is not None:
        wanted = candidates(sentences, raw, lang, title, analyzer, novelty, article_year, first_hand)
        vectors = knowledge.encode([strip_dateline(s) for s in sentences], wanted)
    retold = retold_source(vectors, lang, knowledge, novelty)  # (before this article's sentences join)
    out: list[Verdict] = []
    for i, sentence in enumerate(sentences):
        vector = vectors[i] if vectors is not None else None
        terms_i = knowledge.normalise(raw[i])
        skip = _not_a_claim(sentence, lang, terms_i, heads, novelty, article_year, first_hand)
        if skip:
            out.append(Verdict(sentence, skip[0], skip[1], terms=terms_i))
        else:
            if vector is not None and not vector.any():  # read as no claim beforehand (``candidates``)
                vector = knowledge.encode([strip_dateline(sentence)])[0]
            told = knowledge.day_index.days(sentence, source)  # the days it tells of
            d = decide(terms_i, vector, knowledge, novelty, lang, source, record, told, retold)
            if d.new and not d.brings and (recaps(sentence, lang) or knowledge.day_index.recaps(sentence, source)):
                why = f"recaps an earlier report and brings no name or figure the watch lacks ({d.why})"
                out.append(Verdict(sentence, "background", why, d.similarity, d.nearest, None, terms_i, d.signals))
            else:
                out.append(Verdict(sentence, "new" if d.new else "known", d.why, d.similarity, d.nearest,
                                   attribution(sentence, lang) if d.new else None, terms_i, d.signals))
        if out[-1].verdict != "headline":  # the headline sums up the body; it is not a known sentence itself
            knowledge.add(sentence, lang, source, "article", terms_i, vector)
    return out
