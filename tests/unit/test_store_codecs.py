"""The store's pure parts: the one hash family, packed buckets, and the known-sentence record's binary
form (monitor.store.hashing, .packed, .known_record). The values are on Redis and in alert and job
ids: a change here is a change of layout, so they are pinned."""

from __future__ import annotations

import hashlib

import pytest

from monitor.store import docs, hashing, known_record, packed
from monitor.store.known_record import KnownRecord


def test_one_hash_in_two_forms() -> None:
    for text in ("https://news.example/a", "", "Губернатор", "\ud800 a lone surrogate"):
        for size in (4, 8, 16):
            assert hashing.digest_bytes(text, size).hex() == hashing.digest(text, size)
    assert hashing.digest("https://news.example/a") == hashlib.blake2b(b"https://news.example/a",
                                                                        digest_size=16).hexdigest()
    assert len(hashing.digest_bytes("x")) == 8 and len(hashing.digest("x")) == 32
    assert docs.short_id("seed:a.txt") == hashing.digest_bytes("seed:a.txt", 8)


def test_buckets_are_the_first_ten_bits() -> None:
    assert packed.bucket(b"\xff\xff\x00") == (1023).to_bytes(2, "big")
    assert packed.bucket(b"\x00\x3f") == b"\x00\x00" and packed.bucket(b"\x00\x40") == b"\x00\x01"
    assert len({packed.bucket(hashing.digest_bytes(str(i))) for i in range(20_000)}) == 2 ** packed.BUCKET_BITS


RECORDS = [
    KnownRecord("Officials said on Tuesday that 40 people were moved.", "https://a.example/1", "article", "en",
                "2025-11-25T08:00:00+00:00"),
    KnownRecord("Текст с \x1f и \x1e внутри.", "https://a.example/1", "alert", "ru", None, "m", b"\x00\x3c" * 4,
                "v1\x1ea b\x1e\x1e\x1e3"),
    KnownRecord("", "", "seed", "en"),
]


@pytest.mark.parametrize("rec", RECORDS)
def test_known_records_read_back_as_written(rec: KnownRecord) -> None:
    raw = known_record.encode(rec)
    assert known_record.source_id(raw) == docs.short_id(rec.source)
    assert known_record.decode(raw, rec.source) == rec


def test_known_record_layout_is_pinned() -> None:
    rec = KnownRecord("Text.", "https://a.example/1", "article", "en", "2025-11-25", "m", b"\x01\x02", "t")
    assert known_record.encode(rec) == (b"\x03" + docs.short_id("https://a.example/1")
                                        + b"article\x1fen\x1f2025-11-25\x1fm\x1ft\x1f2\x1f" + b"\x01\x02" + b"Text.")


def test_a_header_field_cannot_break_the_record() -> None:
    rec = KnownRecord("Text.", "s", "article", "en", "2025\x1f11", terms="a\x1fb")
    back = known_record.decode(known_record.encode(rec), "s")
    assert back.published == "2025 11" and back.terms == "a b" and back.text == "Text."


def test_an_element_of_another_form_is_refused() -> None:
    with pytest.raises(ValueError, match="not a known-sentence record"):
        known_record.decode(b'{"text": "An old JSON record."}', "s")
