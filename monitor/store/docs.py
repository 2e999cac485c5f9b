"""The texts a watch has met, by short id: ``cw:w:{watch}:docs``.

A text (an article by its URL, a seed file as "seed:{name}") is named elsewhere by its short id, the
8-byte ``digest_bytes`` of its id: in content owners and LSH records (``dedup``) and in known
sentences' records (``known_record``). This hash turns a short id back into the text's id, so each
long URL is stored once per watch however many records name it.

A value is the text's id, UTF-8; once the text is in the near-duplicate index, ``\\x01``, the
signature's length (2 bytes), the signature (64 x uint16), then the id.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis

from monitor.store import keys
from monitor.store.hashing import digest_bytes

_CHUNK = 10_000  # short ids per HMGET


def short_id(text_id: str) -> bytes:
    """A text's id in the docs hash, the LSH index and known-sentence records."""
    return digest_bytes(text_id, 8)


def value(text_id: str, signature: bytes | None = None) -> bytes:
    """A docs hash value: the text id, after \\x01 + 2-byte length + signature once it is indexed."""
    raw = text_id.encode("utf-8", "surrogatepass")
    return raw if signature is None else b"\x01" + len(signature).to_bytes(2, "big") + signature + raw


def parse(raw: bytes) -> tuple[str, bytes | None]:
    """(text id, signature or None) of a docs hash value."""
    if raw[:1] == b"\x01":
        n = int.from_bytes(raw[1:3], "big")
        return raw[3 + n:].decode("utf-8", "surrogatepass"), raw[3:3 + n]
    return raw.decode("utf-8", "surrogatepass"), None


def names(client: redis.Redis, watch: str, shorts: Iterable[bytes]) -> dict[bytes, str]:
    """short id -> text id, for those the watch has ("" for one it has not)."""
    shorts = list(shorts)
    out: dict[bytes, str] = {}
    for i in range(0, len(shorts), _CHUNK):
        chunk = shorts[i:i + _CHUNK]
        for short, raw in zip(chunk, client.hmget(keys.docs(watch), chunk), strict=True):
            out[short] = parse(raw)[0] if raw is not None else ""
    return out
