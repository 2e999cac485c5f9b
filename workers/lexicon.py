"""General news vocabulary, per language: how a sentence anchors itself as a report.

A news claim names who says it (a reporting verb, "according to") or when it happened (a weekday,
a date, "yesterday", "this week"). Background ("Belgorod region borders Ukraine", "The Grad is a
Soviet-era rocket launcher") does neither. A month alone ("in June", "this month") dates background
as readily as news, so a time of its own is one to the day, in every language alike. A sentence that
presents its report as an earlier one ("officials had earlier confirmed", "ранее заявлял", "раніше
повідомляла") recaps; it is news only with something the watch has never seen (``workers.claims``).
These are ordinary words of each language, not words of any one story.
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
    r"(?i:according to|in a statement|in an interview)"
)
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_EN_TIME = (
    rf"(?i:on|late on|early on|by|since|until|from|last|this|next|that|before|after) {_WEEKDAY}|{_WEEKDAY}['’]s|"
    rf"{_WEEKDAY} (?i:morning|afternoon|evening|night)|"
    r"(?i:today|tonight|yesterday|overnight|"
    r"this (?:morning|afternoon|evening|week|weekend)|last (?:night|week|weekend)|"
    r"earlier (?:on|that|this|the same)|later (?:on|in|that|this|the same)|the same day|the next day|"
    r"the day before|(?:a|one|two|three|four|five|six|seven) (?:days?|hours?|weeks?) (?:later|ago))|"
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)\s+\d{1,2}(?!\d)|"
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
    # reporting verbs in lower case only: "the United States" is no verb
    "en": (_words(_EN_SAY), _words(_EN_TIME), _words(_EN_HABITUAL, re.IGNORECASE)),
    "ru": (_words(_RU_SAY, re.IGNORECASE), _words(_RU_TIME, re.IGNORECASE), _words(_RU_HABITUAL, re.IGNORECASE)),
}
_ANCHORS["uk"] = _ANCHORS["ru"]


# Times that place a statement before the article's news: "last month", "last year", "earlier this
# year", "в прошлом месяце", "минулого року". A sentence dated only by them tells the background.
_EARLIER = {
    "en": _words(r"last (?:month|year|spring|summer|autumn|fall|winter)|earlier this year|a year ago|"
                 r"(?:months|years) (?:ago|earlier)|in recent (?:months|years)", re.IGNORECASE),
    "ru": _words(r"в прошлом (?:месяце|году)|в прошлом месяце|годом ранее|год назад|месяц назад|"
                 r"минулого (?:місяця|року)|торік|рік тому|місяць тому", re.IGNORECASE),
}
_EARLIER["uk"] = _EARLIER["ru"]


# Words that present a report as an earlier one, a recap of what was said before the news at hand
# (not "earlier on Tuesday", "earlier this week": those date it, ``_EN_TIME``; but "two days earlier",
# "earlier in the day" count back from the story's own events, not from the report's day).
_RECAP = {
    "en": _words(r"earlier(?! (?:on|that|this|the same|today))|previously|had (?:already|also) (?:said|reported)",
                 re.IGNORECASE),
    "ru": _words(r"ранее|прежде|до этого|раніше|до того|перед тим", re.IGNORECASE),
}
_RECAP["uk"] = _RECAP["ru"]
# A report in the past perfect ("On Saturday his office had said that ...") is earlier than the
# story's present whatever day it names: the day dates that earlier report, not news at hand. Only
# the sentence's own report counts: "he said he had warned them" reports now what was done before.
# (Russian and Ukrainian have no such tense: "ранее", "до этого" mark it, ``_RECAP``.)
_PERFECT_BEFORE = {"en": re.compile(r"(?<!\w)had (?:(?:already|also|earlier|previously) )?$", re.IGNORECASE)}


def _earlier_report(sentence: str, lang: str) -> bool:
    """Is the sentence's first reporting verb in the past perfect ("had said")?"""
    if lang not in _PERFECT_BEFORE:
        return False
    first = _ANCHORS[lang][0].search(sentence)
    return first is not None and bool(_PERFECT_BEFORE[lang].search(sentence[:first.start()]))


def recaps(sentence: str, lang: str) -> bool:
    """Does the sentence present itself as an earlier report: its report in the past perfect, or a
    recap word and no day of its own?"""
    if lang not in _RECAP:
        return False
    if _earlier_report(sentence, lang):
        return True
    return bool(_RECAP[lang].search(sentence)) and not _ANCHORS[lang][1].search(sentence)


def reported(sentence: str, lang: str, first_hand: bool = False) -> bool:
    """Does the sentence name a source or a time of its own, as a report does (and not a habit, nor
    only an earlier time)? ``first_hand``: its text is the source's own statement (a Telegram
    channel's post: the governor writing "two were wounded in Shebekino" names no one, being the
    one who says it), so only a habit or an earlier time make it background."""
    if lang not in _ANCHORS:
        return True  # no vocabulary for this language: every sentence may be a claim
    say, when, habitual = _ANCHORS[lang]
    if habitual.search(sentence) or (_EARLIER[lang].search(sentence) and not when.search(sentence)):
        return False
    return first_hand or bool(say.search(sentence) or when.search(sentence))


# ------------------------------------------------------------------ the calendar
# Month and weekday names of English, Russian and Ukrainian, folded (``monitor.filters.fold``), as
# word stems: a date says when something happened, so its words are neither names nor content, and
# its digits are not figures ("on 6 June" restates "on Tuesday"; "39 killed" is new).
_MONTHS_EN = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
              "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
              "sept", "oct", "nov", "dec")
_WEEKDAYS_EN = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_EN_CALENDAR = frozenset(_MONTHS_EN + _WEEKDAYS_EN + tuple(d + "s" for d in _WEEKDAYS_EN))
_RU_CALENDAR = re.compile(
    r"(?:январ|феврал|апрел|июн|июл|сентябр|октябр|ноябр|декабр|січн|лют|берез|квітн|травн|червн|липн|серпн|"
    r"вересн|жовтн|грудн)[ьяюеі]?[аяуюіиеь]?|марта?|мая|май|августа?|листопада?|"
    r"понедельник\w*|вторник\w*|сред[аеуы]|четверг\w*|пятниц\w*|суббот\w*|воскресень\w*|"
    r"понеділ\w*|вівтор\w*|серед[аиу]|четвер\w*|п'ятниц\w*|субот\w*|неділ\w*")


def is_calendar_word(folded: str, capitalised: bool = True) -> bool:
    """Is this folded word a month or weekday name (English ones only when capitalised: "the march
    on Moscow" is not March; Russian and Ukrainian ones are written in lower case)?"""
    return (capitalised and folded in _EN_CALENDAR) or bool(_RU_CALENDAR.fullmatch(folded.replace("i", "і")))


# Numbered tables (January, Monday first) of the month and weekday words of the three languages, as
# regular expressions; ``workers.days`` reads days off them, the patterns here only find dates.
MONTHS = (  # English names and abbreviations, Russian and Ukrainian genitives and nominatives
    r"jan(?:uary)?|январ[яь]|січ(?:ня|ень)",
    r"feb(?:ruary)?|феврал[яь]|лют(?:ого|ий)",
    r"mar(?:ch)?|марта?|берез(?:ня|ень)",
    r"apr(?:il)?|апрел[яь]|квіт(?:ня|ень)",
    r"may|мая|май|трав(?:ня|ень)",
    r"june?|июн[яь]|черв(?:ня|ень)",
    r"july?|июл[яь]|лип(?:ня|ень)",
    r"aug(?:ust)?|августа?|серп(?:ня|ень)",
    r"sep(?:t(?:ember)?)?|сентябр[яь]|верес(?:ня|ень)",
    r"oct(?:ober)?|октябр[яь]|жовт(?:ня|ень)",
    r"nov(?:ember)?|ноябр[яь]|листопада?",
    r"dec(?:ember)?|декабр[яь]|груд(?:ня|ень)",
)
MONTHS_IN = (  # a month as a time: "in May", "в мае", "у травні" (locatives)
    r"january|январе|січні", r"february|феврале|лютому", r"march|марте|березні", r"april|апреле|квітні",
    r"may|мае|травні", r"june|июне|червні", r"july|июле|липні", r"august|августе|серпні",
    r"september|сентябре|вересні", r"october|октябре|жовтні", r"november|ноябре|листопаді",
    r"december|декабре|грудні",
)
WEEKDAYS = (  # the weekday as a time: "Thursday", "в четверг", "у середу"
    r"monday|понедельник\w*|понеділ\w*",
    r"tuesday|вторник\w*|вівтор\w*",
    r"wednesday|в\s+среду|в\s+середу|у\s+середу|среда|середа",
    r"thursday|четверг\w*|четвер\w*",
    r"friday|пятниц\w*|п['’]ятниц\w*",
    r"saturday|суббот\w*|субот\w*",
    r"sunday|воскресень\w*|неділ\w*",
)
_MONTH_WORD = "(?:" + "|".join(MONTHS) + ")"
_DATE = re.compile(
    rf"(?<!\w)(?:\d{{1,2}}(?:st|nd|rd|th)?(?:\s+of)?\s+{_MONTH_WORD}(?:\s+\d{{4}})?"
    rf"|{_MONTH_WORD}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|{_MONTH_WORD}\s+\d{{4}}"
    r"|\d{1,2}[./]\d{1,2}[./]\d{2,4}"
    r"|(?:1[89]|20)\d\d(?:\s*(?:року|года|г\.|р\.))?)(?!\w)",
    re.IGNORECASE)


def calendar_spans(sentence: str) -> list[tuple[int, int]]:
    """Where the sentence gives a date or a year: (start, end) character spans."""
    return [m.span() for m in _DATE.finditer(sentence)]


# A wire dateline opens a report: "LONDON, June 28 (Reuters) - ", "КИЕВ, 2 июня (ТАСС) — ",
# "WASHINGTON (AP) — ". It says where the desk filed from, not what happened.
_DATELINE = re.compile(
    r"^\s*[A-ZА-ЯЁІЇЄҐ][A-ZА-ЯЁІЇЄҐ'’.\- ]{1,40}(?:/[A-ZА-ЯЁІЇЄҐ][\w.\- ]{1,30})?,?\s*"
    r"(?:[^()\n]{1,30}?\s*)?(?:\([^()\n]{1,40}\)\s*)?[-–—]+\s+")


def strip_dateline(sentence: str) -> str:
    """The sentence without its opening wire dateline, if it has one (and keeps enough words)."""
    m = _DATELINE.match(sentence)
    if not m:
        return sentence
    head = m.group()
    if not any(c.isupper() for c in head[:3]) or head.split(",")[0].strip() != head.split(",")[0].strip().upper():
        return sentence
    rest = sentence[m.end():]
    return rest if len(rest.split()) >= 3 else sentence
