"""A page's bytes as text, in the encoding they are really in.

A declared charset (BOM, then the Content-Type header, then ``<meta>``) is trusted only while it
makes sense:

- bytes that are valid UTF-8 are UTF-8, whatever single-byte charset a server claims: a page sent
  as UTF-8 behind ``charset=iso-8859-1`` (the common mistake) would otherwise read as mojibake and
  be judged off-topic; a random non-ASCII text in a single-byte charset is almost never valid UTF-8;
- a single-byte charset whose reading charset-normalizer finds incoherent (windows-1251 Cyrillic
  declared as Latin-1), a charset the bytes are invalid in, or none at all: charset-normalizer
  (trafilatura's detector too) decides, from the bytes;
- like browsers (WHATWG Encoding), ``iso-8859-1`` and ``ascii`` are read as windows-1252.

Used by the workers' extraction only: the poller never imports it (feedparser reads feeds).
"""

from __future__ import annotations

import codecs
import functools
import re

from charset_normalizer import from_bytes

_META = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_AS_BROWSERS_DO = {"iso8859-1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252"}


def page_text(body: bytes, content_type: str | None) -> str:
    """An HTML page's bytes as text (see the module doc)."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body.decode(encoding, errors="replace")
    header = _codec(_declared(content_type))
    codec = header or _codec(_meta(body[:4096]), in_page=True)
    if codec == "utf-8" or codec is None:
        with_utf8 = _utf8(body)
        if with_utf8 is not None:
            return with_utf8
    elif _single_byte(codec) and not body.isascii() and (with_utf8 := _utf8(body)) is not None:
        return with_utf8  # valid UTF-8 is UTF-8, whatever single-byte charset is claimed
    else:
        try:
            text = body.decode(codec)
        except UnicodeDecodeError:
            pass
        else:
            if body.isascii() or not _single_byte(codec) or from_bytes(body, cp_isolation=[codec]).best() is not None:
                return text
    best = from_bytes(body).best()
    return str(best) if best is not None else body.decode("utf-8", errors="replace")


def _declared(content_type: str | None) -> str | None:
    if not content_type or "charset=" not in content_type.lower():
        return None
    return content_type.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'")


def _meta(head: bytes) -> str | None:
    m = _META.search(head)
    return m.group(1).decode("ascii") if m else None


def _codec(label: str | None, *, in_page: bool = False) -> str | None:
    """Python's codec for a charset label; None when absent or unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    if in_page and name.startswith(("utf-16", "utf-32")):
        return "utf-8"  # a page that could say so in ASCII is not UTF-16 (WHATWG)
    return _AS_BROWSERS_DO.get(name, name)


def _utf8(body: bytes) -> str | None:
    """``body`` as UTF-8 when it is UTF-8: valid, or damaged in a few places among many good
    multi-byte characters (a bad byte in a Cyrillic page); else None."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = body.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for c in text if c > "\x7f") - bad
    return text if good >= 20 * bad else None


@functools.lru_cache(maxsize=64)
def _single_byte(codec: str) -> bool:
    return len(bytes(range(256)).decode(codec, errors="replace")) == 256
