"""monitor.charset: a page's bytes read in the charset they are really in, whatever was declared."""

from __future__ import annotations

import codecs

import pytest

from monitor.charset import page_text

RU = "Губернатор Белгородской области сообщил, что два села были эвакуированы во вторник утром. " * 4
DE = "Der Bürgermeister von Köln sagte, dass die Straßen gesperrt würden. Größere Schäden gäbe es nicht. " * 4
FR = "Le maire a déclaré que les écoles resteraient fermées jusqu’à la fin de la semaine. " * 4


@pytest.mark.parametrize(("body", "content_type", "text"), [
    (RU.encode(), "text/html; charset=iso-8859-1", RU),  # UTF-8 under a single-byte label: UTF-8 wins
    (DE.encode(), "text/html; charset=ISO-8859-1", DE),
    (FR.encode(), "text/html; charset=windows-1252", FR),
    (RU.encode("cp1251"), "text/html; charset=iso-8859-1", RU),  # nonsense as Latin-1: detected
    (RU.encode("koi8-r"), "text/html; charset=windows-1251", RU),
    (RU.encode("cp1251"), "text/html; charset=windows-1251", RU),  # right: kept
    (DE.encode("latin-1"), "text/html; charset=iso-8859-1", DE),
    (FR.encode("cp1252"), "text/html; charset=iso-8859-1", FR),  # read as browsers do: windows-1252
    (("<meta charset='windows-1251'>" + RU).encode("cp1251"), None, "<meta charset='windows-1251'>" + RU),
    (('<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">' + RU).encode("koi8-r"), "text/html",
     '<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">' + RU),
    (RU.encode(), None, RU),
    (RU.encode(), "text/html; charset=x-no-such-charset", RU),
    (("<meta charset='utf-16'>" + DE).encode(), None, "<meta charset='utf-16'>" + DE),  # ASCII-compatible
    (codecs.BOM_UTF8 + DE.encode(), "text/html; charset=iso-8859-1", DE),  # a BOM says it all
    (codecs.BOM_UTF16_LE + DE.encode("utf-16-le"), None, DE),
    (b"plain ascii", "text/html; charset=iso-8859-1", "plain ascii"),
])
def test_page_text(body: bytes, content_type: str | None, text: str) -> None:
    assert page_text(body, content_type) == text


def test_utf8_with_a_few_bad_bytes_stays_utf8() -> None:
    data = RU.encode()
    at = data.index(b" ") + 1  # between two characters
    damaged = data[:at] + b"\xff" + data[at:]
    text = page_text(damaged, "text/html; charset=utf-8")
    assert text.count("\ufffd") == 1 and text.replace("\ufffd", "") == RU


def test_bytes_invalid_for_the_declared_charset_are_not_refused() -> None:
    text = page_text(b"cargo \xff\xfe\xc3 crane " * 10, "text/html; charset=utf-8")
    assert "cargo" in text and "crane" in text
