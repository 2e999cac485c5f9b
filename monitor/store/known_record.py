"""A sentence a watch knows (``KnownRecord``), and its one binary form in ``cw:w:{watch}:known``.

Every worker adds the sentences it judged and reads the others' (``known.KnownSentences``), so the
record carries what saves a reader work: the sentence's terms as the writer's analysis packed them
(no re-analysis: 79 B a sentence) and its vector from the writer's encoder (no pass through the
model, ~0.7 s an article with MiniLM). A reader uses them only when its analysis version / encoder
``model`` is the same.

The element, byte for byte::

    \\x03 | source short id (8) | kind US lang US published US model US terms US len(vector) US | vector | text

US is \\x1f. The source is named by its short id (``docs``: one copy of each long URL per watch), the
vector is kept raw (float16, 768 B for 384 dimensions; base64 would add a third), the text comes last
and may hold any character. Redis bytes per sentence (benchmarks/memory.py, a list of 20,000, terms
included): 274, 1,176 with a vector; the same records as JSON with a base64 vector took 433 and 1,646.

A header field cannot hold US: a kind or language is a code, terms are packed without it and dates
are ISO 8601, so none does; one that did would be written with a space in its place. ``published``
"" reads back as None.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.store import docs

FORMAT = b"\x03"
"""The first byte of an element: the layout above (a new layout takes a new byte)."""

_US = "\x1f"
_HEADER = 5  # kind, lang, published, model, terms


@dataclass(frozen=True)
class KnownRecord:
    text: str
    source: str  # "seed:{file name}" or the article's URL
    kind: str  # seed | article | alert
    lang: str  # the sentence's language code
    published: str | None = None  # the source article's date (ISO 8601); None for seed files and unknown dates
    model: str = ""  # the encoder that made ``vector`` ("" without one)
    vector: bytes = b""  # the sentence's unit vector, float16 values in the writer's (little-endian) order
    terms: str = ""  # the sentence's terms, ``workers.text.Analyzer.pack`` form ("": analyse the text again)


def _head(value: str | None) -> bytes:
    return (value or "").replace(_US, " ").encode("utf-8", "surrogatepass")


def encode(rec: KnownRecord) -> bytes:
    """The list element of a record."""
    head = [_head(v) for v in (rec.kind, rec.lang, rec.published, rec.model, rec.terms)]
    return b"".join([FORMAT, docs.short_id(rec.source), b"\x1f".join([*head, str(len(rec.vector)).encode(), b""]),
                     rec.vector, rec.text.encode("utf-8", "surrogatepass")])


def source_id(raw: bytes) -> bytes:
    """The short id of an element's source (resolved through the docs hash before ``decode``)."""
    if raw[:1] != FORMAT:
        raise ValueError(f"not a known-sentence record: starts with {raw[:1]!r}")
    return raw[1:9]


def decode(raw: bytes, source: str) -> KnownRecord:
    """The record of an element whose source (``source_id``) is ``source``."""
    source_id(raw)
    *head, nvec, rest = raw[9:].split(b"\x1f", _HEADER + 1)
    kind, lang, published, model, terms = (v.decode("utf-8", "surrogatepass") for v in head)
    n = int(nvec)
    return KnownRecord(text=rest[n:].decode("utf-8", "surrogatepass"), source=source, kind=kind, lang=lang,
                       published=published or None, model=model, vector=rest[:n], terms=terms)
