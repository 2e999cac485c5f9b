"""workers.dedup: the exact content hash and the MinHash signature behind near-duplicate detection."""

from __future__ import annotations

from workers import dedup
from workers.dedup import BANDS, NUM_PERM, Signature, content_hash, signature, words

TEXT = (
    "Regional governor Vyacheslav Gladkov said on Monday that 70 fighters were killed near the village of "
    "Kozinka. The Russian Volunteer Corps said on Tuesday that its units had entered the town of Grayvoron. "
    "Kremlin spokesman Dmitry Peskov said on Monday that the saboteurs would be driven out of the region. "
    "Residents of Shebekino were evacuated to Belgorod after days of shelling, officials said on Friday."
)
EDITED = (TEXT.replace("Monday that 70", "Monday that seventy")
          .replace("on Friday", "on Saturday"))
UNRELATED = (
    "The city council approved a new budget for public libraries and parks on Wednesday evening after a long "
    "debate about taxes, schools and the cost of repairing old bridges across the river, the mayor told "
    "reporters, adding that construction would begin in the spring once contracts had been signed."
)


def test_words_are_folded() -> None:
    assert words("Ёлка, CAFÉ  and_tea!") == ["елка", "cafe", "and", "tea"]


def test_content_hash_ignores_case_punctuation_and_whitespace() -> None:
    messy = TEXT.upper().replace(" ", "  \n\t").replace(".", "!!").replace(",", " ;")
    assert content_hash(messy) == content_hash(TEXT)
    assert content_hash("Café, Belgorod.") == content_hash("cafe belgorod")


def test_content_hash_changes_with_the_words() -> None:
    assert content_hash(EDITED) != content_hash(TEXT)
    assert content_hash("a b") != content_hash("b a")  # word order matters
    assert len(content_hash(TEXT)) == 32


def test_identical_text_has_jaccard_one() -> None:
    assert signature(TEXT).jaccard(signature(TEXT)) == 1.0
    assert signature(TEXT.upper()).jaccard(signature(TEXT)) == 1.0  # folded before shingling


def test_lightly_edited_copy_is_near() -> None:
    assert signature(TEXT).jaccard(signature(EDITED)) > 0.7


def test_unrelated_text_is_far() -> None:
    assert signature(TEXT).jaccard(signature(UNRELATED)) < 0.2


def test_short_texts_still_get_a_signature() -> None:
    assert signature("two words").jaccard(signature("two words")) == 1.0
    assert len(signature("").values) == NUM_PERM


def test_bands_are_stable_and_shared_by_copies() -> None:
    a, b = signature(TEXT), signature(TEXT)
    assert a.bands() == b.bands()
    assert len(a.bands()) == BANDS
    assert len(set(a.bands())) == BANDS  # band index is part of the key
    assert all(band.startswith(f"{i}:") for i, band in enumerate(a.bands()))
    # a near copy shares at least one band (so LSH finds it); an unrelated text shares none
    assert set(a.bands()) & set(signature(EDITED).bands())
    assert not set(a.bands()) & set(signature(UNRELATED).bands())


def test_bands_are_stable_across_processes() -> None:
    # the seed and the permutations are fixed: a stored band key must mean the same thing tomorrow
    # (a changed seed, NUM_PERM or hashing would orphan every band stored in Redis)
    assert signature("The quick, brown fox jumps over the lazy dog!").bands()[:2] == [
        "0:2be9682dad8b26f1", "1:00c123acc638ccad"]


def test_signature_round_trips_through_bytes() -> None:
    sig = signature(TEXT)
    raw = sig.to_bytes()
    assert len(raw) == NUM_PERM * 4  # uint32: MinHash values are < 2**32
    back = Signature.from_bytes(raw)
    assert back.jaccard(sig) == 1.0
    assert back.bands() == sig.bands()


def test_compact_signature_is_128_bytes_and_estimates_the_same_jaccard() -> None:
    a, b, c = signature(TEXT), signature(EDITED), signature(UNRELATED)
    assert len(a.compact()) == 2 * NUM_PERM
    assert a.jaccard_compact(a.compact()) == 1.0
    assert abs(a.jaccard_compact(b.compact()) - a.jaccard(b)) <= 1 / NUM_PERM  # low 16 bits agree by chance 1/65536
    assert a.jaccard_compact(c.compact()) < 0.2
    assert a.jaccard_compact(b"short") == 0.0  # a value of another layout is no match, not an error


def test_fingerprints_fold_once_and_match_a_fresh_minhash() -> None:
    """The permutations drawn once give what a MinHash seeded afresh gives (signatures in Redis stay valid)."""
    from datasketch import MinHash

    text = "Officials said on Tuesday that 1,240 people had been moved to shelters in the district. " * 3
    chash, sig = dedup.fingerprints(text)
    assert chash == dedup.content_hash(text)
    ws = dedup.words(text)
    fresh = MinHash(num_perm=dedup.NUM_PERM, seed=1)
    fresh.update_batch(list({" ".join(ws[i:i + dedup.SHINGLE]).encode() for i in range(len(ws) - dedup.SHINGLE + 1)}))
    assert (sig.values == fresh.hashvalues.astype("uint64")).all()
    assert (dedup.signature(text).values == sig.values).all()
