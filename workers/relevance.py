"""Is this article about the watch's events, or only about the same names?

Words: the watch's knowledge (the seed corpus, then every accepted article) is told in the words
of its story: its people, places and groups, and what they did. A term is *topical* when it is at
least a hundred times more frequent in that knowledge than in the language at large (wordfreq's
frequency lists); common words ("said", "Russia", "military") never are. An article about the same
events is told in a good share of topical terms; an unrelated story that merely shares a keyword
("Raid", "Legion", a submarine named Belgorod) is not, however much the knowledge grows. The score
is the share of the article's distinct content lemmas that are topical; ``novelty.relevance`` is
the bar. In a language the watch hardly knows yet, the share of its names (transliterated) that
the watch knows stands in (in its spelling or in another transliteration: Бєлгородщину meets
Belgorod, ``workers.name_keys``), when it shares two of them at least.

Time: events are in the news for a while. When the watch names its ``event_dates``, those and the
published dates of the articles it accepted since say when; an article published well before them
(``days_before``) or long after the latest (``days_after``) is about another event, however alike
its words.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from monitor.settings import WatchSettings
from workers.knowledge import Knowledge, day_of
from workers.name_keys import name_key
from workers.text import Terms

MIN_SHARED_NAMES = 2  # in a language the watch hardly reads: names it knows that an article must share


def relevance(sentence_terms: Iterable[Terms], knowledge: Knowledge, lang: str) -> float:
    """Share of the article's content words that are topical for the watch; in a language the watch
    hardly knows yet, share of its names (transliterated), which read the same across languages."""
    if knowledge.speaks(lang):
        return knowledge.topical_share((t for terms in sentence_terms for t in terms.content), lang)
    names = {t for terms in sentence_terms for t in terms.names}
    # a name it knows, in the same spelling (fuzzily) or another transliteration (``name_keys``)
    canon = {n: knowledge.canonical(n, name=True) for n in names}
    known = {n: name_key(c) or c[:5] for n, c in canon.items()
             if c in knowledge.name_counts or knowledge.name_keys.match(n)}
    # one shared name (in any of its forms: Белгород, Белгородской) is a namesake, not the story
    if len(set(known.values())) < MIN_SHARED_NAMES:
        return 0.0
    return len(known) / len(names)


def out_of_time(published: str | None, watch: WatchSettings, knowledge: Knowledge) -> str | None:
    """Why an article published then is about another event, or None when its time fits."""
    day = day_of(published) if published else None
    if day is None or not watch.event_dates:  # without the events' dates, time says nothing
        return None
    dates: list[date] = [*watch.event_dates, *knowledge.dates]
    first = min(dates) - timedelta(days=watch.novelty.days_before)
    last = max(dates) + timedelta(days=watch.novelty.days_after)
    if day < first:
        return f"published {day}, before the events ({min(dates)})"
    if day > last:
        return f"published {day}, {(day - max(dates)).days} days after the latest news of the events ({max(dates)})"
    return None
