"""Which known texts name which days: the claim's day rule (``workers.days``) over the knowledge.

One entry per known sentence (its row in ``Knowledge.items``), so the encoder's nearest neighbour can
be looked for among the texts that name a claim's days only.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from datetime import date

import numpy as np

from workers.days import Day, carried, days, only_earlier_months
from workers.lexicon import strip_dateline


class DayIndex:
    def __init__(self) -> None:
        self._published: dict[str, date] = {}  # each text's published day, where known
        self._source_days: dict[str, set[str]] = {}  # the tokens of the days each text names
        self._source_ids: dict[str, int] = {}
        self._day_sources: defaultdict[str, set[int]] = defaultdict(set)  # a day's token -> the texts naming it
        self._rows = array("i")  # row i: the known sentence's text, by its id

    def published(self, source: str, day: date | None) -> None:
        """The day ``source`` was published: its weekdays resolve to dates."""
        if day:
            self._published[source] = day

    def days(self, sentence: str, source: str) -> list[Day]:
        """The days a sentence of ``source`` names, resolved by its published day where known (not
        its wire dateline's: the day the desk filed is not the day of what it tells)."""
        return days(strip_dateline(sentence), self._published.get(source))

    def recaps(self, sentence: str, source: str) -> bool:
        """Is the sentence dated by earlier months alone (``days.only_earlier_months``)?"""
        return only_earlier_months(strip_dateline(sentence), self._published.get(source))

    def add(self, sentence: str, source: str) -> None:
        """The next known sentence (the next row)."""
        source_id = self._source_ids.setdefault(source, len(self._source_ids))
        self._rows.append(source_id)
        for day in self.days(sentence, source):
            self._source_days.setdefault(source, set()).update(day)
            for token in day:
                self._day_sources[token].add(source_id)

    def names(self, claim: list[Day], source: str) -> bool:
        """Does the text ``source`` name every one of the claim's days?"""
        return carried(claim, self._source_days.get(source, set()))

    def rows_naming(self, claim: list[Day]) -> np.ndarray:
        """A boolean mask over the rows: those whose text names every one of the claim's days."""
        ids = set.intersection(*(set().union(*(self._day_sources.get(t, ()) for t in day)) for day in claim))
        return np.isin(np.frombuffer(self._rows, dtype=np.int32), list(ids))
