"""General news vocabulary, per language: how a sentence anchors itself as a report.

A news claim names who says it (a reporting verb, "according to") or when it happened (a weekday,
a date, "yesterday", "this week"). Background ("Belgorod region borders Ukraine", "The Grad is a
Soviet-era rocket launcher") does neither. These are ordinary words of each language, not words of
any one story.
"""

from __future__ import annotations

import re

_EN_SAY = (
    r"said|says|say|saying|told|tells|tell|announced|announces|announce|claimed|claims|claim|alleged|alleges|"
    r"stated|states|added|adds|wrote|writes|reported|reports|confirmed|confirms|denied|denies|insisted|insists|"
    r"warned|warns|asserted|asserts|suggested|suggests|assessed|assesses|argued|argues|accused|accuses|"
    r"called|calls|described|describes|identified|identifies|cited|citing|quoted|quoting|admitted|admits|"
    r"acknowledged|acknowledges|estimated|estimates|promised|promises|vowed|vows|threatened|threatens|"
    r"urged|urges|declared|declares|posted|posts|published|publishes|showed|shows|revealed|reveals|"
    r"according to|in a statement|in an interview"
)
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_EN_TIME = (
    rf"(?i:on|late on|early on|by|since|until|from|last|this|next|that|before|after) {_WEEKDAY}|{_WEEKDAY}['’]s|"
    rf"{_WEEKDAY} (?i:morning|afternoon|evening|night)|"
    r"(?i:today|tonight|yesterday|overnight|"
    r"this (?:morning|afternoon|evening|week|weekend|month)|last (?:night|week|weekend|month)|"
    r"(?:earlier|later) (?:on|in|that|this|the same)|the same day|the next day|the day before|"
    r"(?:a|one|two|three|four|five|six|seven) (?:days?|hours?|weeks?) (?:earlier|later|ago))|"
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)(?!\s+\d{4})|"
    r"\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"
)
# Habitual or generic statements are background even when they name a source or a time:
# "the ministry publishes daily summaries", "Washington has repeatedly said ...".
_EN_HABITUAL = (r"regularly|repeatedly|routinely|usually|typically|often|frequently|traditionally|generally|"
                r"daily|weekly|every (?:day|week|month|year)|has long|have long|for years|for decades")
_RU_HABITUAL = r"регулярно|неоднократно|постоянно|обычно|традиционно|ежедневно|неодноразово|зазвичай|щодня|постійно"
_RU_SAY = (
    r"заяв\w*|сообщ\w*|сказал\w*|рассказ\w*|написал\w*|подтверд\w*|опроверг\w*|отрица\w*|утвержда\w*|"
    r"признал\w*|пообещал\w*|объявил\w*|по словам|по данным|по информации|как сообщает|как пишет|"
    r"повідом\w*|заявив\w*|за словами|за даними|стверджу\w*|підтверд\w*|написав\w*|розповів\w*|оголосив\w*"
)
_RU_TIME = (
    r"понедельник\w*|вторник\w*|сред[уаые]|четверг\w*|пятниц\w*|суббот\w*|воскресень\w*|сегодня|вчера|ночью|"
    r"понеділ\w*|вівтор\w*|серед[уаи]|четвер\w*|п'ятниц\w*|п’ятниц\w*|субот\w*|неділ\w*|сьогодні|учора|вчора|"
    r"\d{1,2}\s+(?:января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря|"
    r"січня|лютого|березня|квітня|травня|червня|липня|серпня|вересня|жовтня|листопада|грудня)(?!\s+\d{4})"
)


def _words(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w)(?:{pattern})(?!\w)", flags)


_ANCHORS = {  # (reporting, time, habitual)
    "en": (_words(_EN_SAY, re.IGNORECASE), _words(_EN_TIME), _words(_EN_HABITUAL, re.IGNORECASE)),
    "ru": (_words(_RU_SAY, re.IGNORECASE), _words(_RU_TIME, re.IGNORECASE), _words(_RU_HABITUAL, re.IGNORECASE)),
}
_ANCHORS["uk"] = _ANCHORS["ru"]


def reported(sentence: str, lang: str) -> bool:
    """Does the sentence name a source or a time of its own, as a report does (and not a habit)?"""
    if lang not in _ANCHORS:
        return True  # no vocabulary for this language: every sentence may be a claim
    say, when, habitual = _ANCHORS[lang]
    if habitual.search(sentence):
        return False
    return bool(say.search(sentence) or when.search(sentence))
