"""Who asserts a claim, when the sentence says so: "X said ...", "... , X said", "according to X"."""

from __future__ import annotations

import re

_NAME = r"((?:[A-Z][\w'’.-]*|of|the|for|de|al)(?:\s+(?:[A-Z][\w'’.-]*|of|the|for|and|de|al))*)"
_SPEECH_EN = (r"(?:said|says|say|told|announced|claimed|claims|alleged|alleges|stated|added|wrote|reported|"
              r"confirmed|denied|insisted|warned|asserted|suggested|assessed|accused|argued)")
_PATTERNS_EN = [
    re.compile(r"\b(?i:according to )(?:the )?" + _NAME),
    re.compile(_NAME + r"(?:,[^,]{1,80},)?\s+(?:has |had |have )?" + _SPEECH_EN + r"\b"),
    re.compile(r"\b" + _SPEECH_EN + r"\s+" + _NAME),
]
_SPEECH_RU = (r"(?:заявил[аои]?|сообщил[аои]?|сказал[аои]?|написал[аои]?|подтвердил[аои]?|"
              r"заявив|повідомив|повідомила|сказав|написав|підтвердив)")
_PATTERNS_RU = [
    re.compile(r"(?i:по словам|по данным|как сообщает|за словами|за даними)\s+"
               r"([А-ЯЁЄІЇ][\w-]*(?:\s+[А-ЯЁЄІЇ][\w-]*)*)"),
    re.compile(r"([А-ЯЁЄІЇ][\w-]*(?:\s+[А-ЯЁЄІЇ][\w-]*)*)(?:,[^,]{1,80},)?\s+" + _SPEECH_RU + r"\b"),
]
_WEAK = {"The", "A", "An", "It", "He", "She", "They", "We", "This", "That", "But", "And", "In", "On", "At"}


def _clean(name: str) -> str | None:
    words = name.strip(" ,.").split()
    while words and (words[0] in _WEAK or words[0].islower()):
        words = words[1:]
    while words and words[-1].islower():
        words = words[:-1]
    return " ".join(words) or None


def attribution(sentence: str, lang: str) -> str | None:
    patterns = _PATTERNS_RU if lang in ("ru", "uk") else _PATTERNS_EN
    for pattern in patterns:
        for m in pattern.finditer(sentence):
            who = _clean(m.group(1))
            if who:
                return who
    return None
