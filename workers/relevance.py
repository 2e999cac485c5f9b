"""Is this article about the watch's events, or only about the same names?

First version: vocabulary overlap. The watch's knowledge (the seed corpus, then every accepted
article) holds the words its story is told in: its people, places, groups and what they did. An
article about the same events is told mostly in those words; an unrelated story that merely shares
a keyword ("Raid", "Legion") is not. The score is the share of the article's distinct content
lemmas the knowledge holds; ``novelty.relevance`` is the bar.
"""

from __future__ import annotations

from collections.abc import Iterable

from workers.knowledge import Knowledge
from workers.text import Terms


def relevance(sentence_terms: Iterable[Terms], knowledge: Knowledge) -> float:
    return knowledge.known_share(t for terms in sentence_terms for t in terms.content)
