"""Sentence vectors travel with the known-sentence records, so a second worker does not re-encode them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np

from monitor.store import KnownRecord
from workers.knowledge import Knowledge
from workers.text import Analyzer
from workers.vectors import decode_vector, encode_vector


class CountingEncoder:
    """A deterministic stand-in for the model: a unit vector from the text's hash; counts its work."""

    name = "counting-v1"
    dim = 16

    def __init__(self) -> None:
        self.encoded = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.encoded += len(texts)
        rows = [np.random.default_rng(abs(hash(t)) % 2**32).normal(size=16) for t in texts]
        return np.asarray([r / np.linalg.norm(r) for r in rows], dtype=np.float32)


def test_vector_codec_keeps_cosines() -> None:
    v = CountingEncoder().encode(["Gladkov said on Monday that 70 fighters were killed."])[0]
    back = decode_vector(encode_vector(v))
    assert back is not None and abs(float(back @ v) - 1.0) < 1e-3
    assert decode_vector(b"odd") is None and decode_vector(None) is None and decode_vector(b"") is None


def test_records_carry_vectors_and_another_worker_reuses_them() -> None:
    analyzer = Analyzer(("en",))
    first_enc, second_enc = CountingEncoder(), CountingEncoder()
    first = Knowledge("w", analyzer, first_enc)
    item = first.add("Officials said on Tuesday that a power station in Shebekino was damaged.", "en", "u", "article")
    record = first.record(item, "en", "2023-06-01T10:00:00Z")
    assert record.model == "counting-v1" and record.vector

    second = Knowledge("w", analyzer, second_enc)
    second.add_records([record, KnownRecord("A record from a worker without the model.", "", "article", "en")])
    assert second_enc.encoded == 1  # only the record without a vector was encoded
    near, sim = second.nearest_vector(first_enc.encode([item.text])[0])
    assert near is not None and near.text == item.text and sim > 0.999
    assert second.dates == [date(2023, 6, 1)]


def test_a_vector_from_another_model_is_not_trusted() -> None:
    analyzer = Analyzer(("en",))
    enc = CountingEncoder()
    k = Knowledge("w", analyzer, enc)
    k.add_records([KnownRecord("Some sentence.", "", "article", "en", model="other-model",
                               vector=encode_vector(np.ones(16) / 4))])
    assert enc.encoded == 1


def test_records_carry_their_terms_so_other_workers_do_not_analyse_the_text_again() -> None:
    analyzer = Analyzer()
    writer = Knowledge("w", analyzer)
    item = writer.add("Governor Vyacheslav Gladkov said 12 people were hurt in Shebekino.", "en",
                      "https://a.example/1", "article")
    rec = writer.record(item, "en", None)
    assert analyzer.unpack(rec.terms) == item.terms

    reader = Knowledge("w", analyzer)
    calls: list[str] = []
    real = analyzer.terms
    analyzer.terms = lambda s, lang: calls.append(s) or real(s, lang)  # type: ignore[method-assign]
    try:
        reader.add_records([rec, replace(rec, terms="")])
    finally:
        analyzer.terms = real  # type: ignore[method-assign]
    assert [k.terms for k in reader.items] == [item.terms, item.terms]
    assert calls == [rec.text]  # only the record without packed terms was analysed


def test_a_sentence_known_word_for_word_is_not_encoded_again() -> None:
    encoder = CountingEncoder()
    k = Knowledge("w", Analyzer(), encoder)
    known = "Gladkov said on Monday that 70 fighters were killed near Kozinka."
    k.add(known, "en", "https://a.example/1", "article")
    assert encoder.encoded == 1
    new = "The governor said on Tuesday that the evacuation of Shebekino had begun."
    vectors = k.encode([new, known])  # a syndicated copy: one sentence of its own, one known
    assert encoder.encoded == 2  # only the new sentence went through the model
    assert np.array_equal(vectors[1], k.vectors.matrix[0]) and np.allclose(vectors[0], encoder.encode([new])[0])
    assert k.encode([]).shape[0] == 0


def test_a_sentence_that_is_no_claim_travels_without_a_vector() -> None:
    analyzer = Analyzer(("en",))
    first_enc, second_enc = CountingEncoder(), CountingEncoder()
    first = Knowledge("w", analyzer, first_enc)
    vectors = first.encode(["A claim, officials said on Monday.", "Background."], [True, False])
    assert first_enc.encoded == 1 and not vectors[1].any() and vectors[0].any()
    item = first.add("Background.", "en", "u", "article", vector=vectors[1])
    record = first.record(item, "en", None)
    assert record.model == "counting-v1" and record.vector == b""  # no 1 KB of zeros in Redis
    second = Knowledge("w", analyzer, second_enc)
    second.add_records([record])
    assert second_enc.encoded == 0  # and no encoding of it by another worker either


def test_a_claims_two_lookups_share_one_product_until_the_index_grows() -> None:
    enc = CountingEncoder()
    k = Knowledge("w", Analyzer(("en",)), enc)
    k.add("Officials said on Tuesday that a power station in Shebekino was damaged.", "en", "u", "article")
    k.add("Губернатор сообщил во вторник, что электростанция повреждена.", "ru", "v", "article")
    v = enc.encode(["Gladkov said on Monday that 70 fighters were killed."])[0]
    best, best_sim = k.nearest_vector(v)
    (same, same_sim), (other, other_sim) = k.nearest_vectors(v, "en")
    assert best is not None and best_sim == max(same_sim, other_sim)
    assert {best.text} <= {x.text for x in (same, other) if x is not None}
    twin = "Gladkov said on Monday that 70 fighters were killed."
    k.add(twin, "en", "w", "article", vector=v)  # the index grows: the next lookup sees the new row
    near, sim = k.nearest_vector(v)
    assert near is not None and near.text == twin and sim > 0.999
    assert k.nearest_vectors(v, "en")[0][0].text == twin
