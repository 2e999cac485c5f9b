"""A long known sentence's parts (workers/clauses.py): the runs of its clauses, and the cosine of a
claim to the nearest part long enough to say what the claim says."""

from __future__ import annotations

import numpy as np

from workers.clauses import MOST_CLAUSES, PartVectors, parts

PACKED = ("The group claimed to have crossed the border and overrun Kozinka on May 22, "
          "while also sending units into the town of Grayvoron.")


def test_the_parts_are_the_runs_of_clauses_but_the_whole() -> None:
    assert parts(PACKED) == ["The group claimed to have crossed the border and overrun Kozinka on May 22",
                             "while also sending units into the town of Grayvoron."]
    three = "Officials said the column had stopped; the fighters stayed in Rostov – the talks went on overnight."
    assert parts(three) == ["Officials said the column had stopped",
                            "Officials said the column had stopped; the fighters stayed in Rostov",
                            "the fighters stayed in Rostov",
                            "the fighters stayed in Rostov – the talks went on overnight.",
                            "the talks went on overnight."]


def test_a_sentence_of_one_clause_has_no_parts_and_short_clauses_join_a_neighbour() -> None:
    assert parts("The governor said that the regime had been lifted in the whole region.") == []
    # "In Rostov" and "he said" are too short to be clauses of their own
    assert parts("In Rostov, the fighters would stay until Monday, he said.") == []
    many = ", ".join(f"clause number {i} says something here" for i in range(9)) + "."
    runs = parts(many)
    assert len(runs) == MOST_CLAUSES * (MOST_CLAUSES + 1) // 2 - 1  # at most five clauses
    assert all(r in many for r in runs)


class _Counting:
    """An encoder for the protocol: one axis per distinct text, counting what it encodes."""

    name, dim = "counting", 16

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.encoded = 0

    def reads(self, lang: str) -> bool:
        return True

    def encode(self, texts: list[str]) -> np.ndarray:
        self.encoded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i, self.seen.setdefault(t, len(self.seen) % self.dim)] = 1.0
        return out


def test_a_claim_meets_the_nearest_part_long_enough_and_parts_are_encoded_once() -> None:
    enc = _Counting()
    vectors = PartVectors(enc)  # type: ignore[arg-type]
    second = "while also sending units into the town of Grayvoron."
    claim = enc.encode([second])[0]  # the claim reads as the second clause itself
    assert vectors.closest(PACKED, claim, words=9) == 1.0
    assert enc.encoded == 1 + 2
    assert vectors.closest(PACKED, claim, words=9) == 1.0 and enc.encoded == 3  # kept, not encoded again
    # a claim more than twice as long as the part: the part cannot say all it says
    assert vectors.closest(PACKED, claim, words=20) == 0.0
    assert vectors.closest("One clause, no more.", claim, words=3) == 0.0


def test_a_quotation_the_splitter_kept_whole_parts_at_its_sentences_not_at_abbreviations() -> None:
    quoted = ("“But today it’s time for everyone to take responsibility for their future. "
              "It’s time to put an end to the Kremlin’s dictatorship.”")
    assert parts(quoted) == ["“But today it’s time for everyone to take responsibility for their future.",
                             "It’s time to put an end to the Kremlin’s dictatorship.”"]
    assert parts("U.S. officials said Mr. Putin was briefed by Gen. Gerasimov on Monday.") == []


def test_the_parts_kept_are_bounded_and_the_least_recently_used_go_first() -> None:
    enc = _Counting()
    vectors = PartVectors(enc, size=2)  # type: ignore[arg-type]
    claim = np.zeros(enc.dim, dtype=np.float32)
    sentences = [f"Sentence {i} has one clause here, and sentence {i} has a second one." for i in range(3)]
    vectors.closest(sentences[0], claim, 4)
    vectors.closest(sentences[1], claim, 4)
    vectors.closest(sentences[0], claim, 4)  # used again: sentences[1] is now the oldest
    vectors.closest(sentences[2], claim, 4)  # evicts sentences[1]
    before = enc.encoded
    vectors.closest(sentences[0], claim, 4)
    assert enc.encoded == before
    vectors.closest(sentences[1], claim, 4)
    assert enc.encoded == before + 2
