"""The one hash behind every name and id derived from a text: BLAKE2b, ``size`` bytes of digest.

``digest(text, size)`` is its hex form, for key names and ids (``cw:feed:{digest(url)}``, alert and
job ids, a link-less entry's stand-in URL, LSH band keys); ``digest_bytes(text, size)`` is the same
hash as bytes, for the packed binary records (seen markers, article fields, a text's short id).
``digest_bytes(t, n).hex() == digest(t, n)`` for every text and size: one definition, whichever form
a reader meets. (BLAKE2b's digest size is a parameter of the hash, not a truncation: the 8-byte hash
of a text is not the first half of its 16-byte hash, so the size is part of a value's name.)

Sizes in use, and the odds of a collision among n texts (about n^2 / 2^(8 size + 1)):
- 16 (the default of ``digest``): key names, alert ids. Never in practice.
- 8 (the default of ``digest_bytes``): seen markers, article records, short ids, band keys. 3e-8 at a
  million texts, 3e-6 at ten million; the cost of one is an entry taken for seen or a text taken for
  another's copy, once.
- 4: a sink's name inside a delivery job id (a handful of sinks).

Text is encoded as UTF-8 with surrogates passed through, so any ``str`` (even one holding a lone
surrogate from a broken feed) hashes without an error.
"""

from __future__ import annotations

import hashlib


def digest_bytes(text: str, size: int = 8) -> bytes:
    """BLAKE2b of ``text`` with a ``size``-byte digest."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=size).digest()


def digest(text: str, size: int = 16) -> str:
    """``digest_bytes(text, size)`` as hex (2 * ``size`` characters)."""
    return digest_bytes(text, size).hex()
