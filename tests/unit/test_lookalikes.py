"""monitor.lookalikes: the Latin/Cyrillic table is Unicode's confusables data, restricted as its docstring says."""

from __future__ import annotations

import importlib.resources
import json
import string
import unicodedata

from monitor.filters import Words
from monitor.lookalikes import CYRILLIC_TO_LATIN, fold_lookalikes


def _from_unicode_confusables() -> dict[str, str]:
    """The rule of monitor.lookalikes applied to confusables.txt (the confusable-homoglyphs package's copy):
    Cyrillic letter <-> basic Latin letter pairs, casefolded, the small letter's look-alike first."""
    data = json.loads((importlib.resources.files("confusable_homoglyphs") / "confusables.json").read_text("utf-8"))
    pairs = set()
    for char, homoglyphs in data.items():
        for h in homoglyphs:
            for a, b in ((char, h["c"]), (h["c"], char)):
                if len(a) == len(b) == 1 and unicodedata.name(a, "").startswith("CYRILLIC") \
                        and b in string.ascii_letters:
                    pairs.add((a, b))
    table: dict[str, str] = {}
    for cyrillic, latin in sorted(pairs, key=lambda p: (p[0] != p[0].lower(), p)):
        table.setdefault(cyrillic.casefold(), latin.casefold())
    return table


def test_the_table_is_unicodes_confusables_restricted_to_latin_and_cyrillic() -> None:
    assert _from_unicode_confusables() == CYRILLIC_TO_LATIN
    assert len(CYRILLIC_TO_LATIN) == 28


def test_folding_commutes_with_case() -> None:
    for cyrillic in CYRILLIC_TO_LATIN:
        assert fold_lookalikes(cyrillic.upper().casefold()) == fold_lookalikes(cyrillic)
    assert Words("БЕЛГОРОД Белгород бeлгoрoд").tokens == ["бeлropoд"] * 3
