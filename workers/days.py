"""The days a sentence tells of: weekdays and dates, in English, Russian and Ukrainian alike.

A report is dated to the day ("said on Thursday", "в четверг заявил", "on 25 May"). A known text
that never names a claim's day cannot be the report the claim restates: "Gladkov insisted on
Thursday" is not the seed's "Gladkov announced on Tuesday", however alike their words.

Each day is a small set of tokens that stand for it: a weekday (``wd3``), a date (``05-25``), and,
when the article's published date places it, both (a weekday resolves to the latest such day on or
before publication; a date with its year, or the publication's, names its weekday). Two days are the
same when their tokens meet. These are the calendar words of each language, not words of any story.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from workers.lexicon import MONTHS, MONTHS_IN, WEEKDAYS

_WEEKDAY = re.compile("|".join(f"(?P<w{i}>(?<!\\w)(?:{p})(?!\\w))" for i, p in enumerate(WEEKDAYS)),
                      re.IGNORECASE)

_MONTH = "|".join(f"(?P<m{i}>{p})" for i, p in enumerate(MONTHS))
_DAY_MONTH = re.compile(rf"(?<![\w.])(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+(?:{_MONTH})\.?(?!\w)"
                        r"(?:,?\s+(?P<y>(?:19|20)\d\d))?", re.IGNORECASE)
_MONTH_DAY = re.compile(rf"(?<!\w)(?:{_MONTH})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?![\w.,]\d)"
                        r"(?:,?\s+(?P<y>(?:19|20)\d\d))?", re.IGNORECASE)

# a month named alone, as a time: "in May", "в мае", "у травні" (English: after a preposition, so
# "May" the verb is none)
_MONTH_ALONE = re.compile(r"(?<!\w)(?:in|since|during|by|until|early|late|mid|в|во|у|с|з|до)[\s-]+(?:"
                          + "|".join(f"(?P<n{i}>{p})" for i, p in enumerate(MONTHS_IN))
                          + r")(?![\w-])(?!\s+\d)", re.IGNORECASE)

Day = frozenset[str]


def _month(m: re.Match[str]) -> int:
    return next(int(k[1:]) + 1 for k, v in m.groupdict().items() if k.startswith("m") and v)


def _date_day(m: re.Match[str], published: date | None) -> Day | None:
    day, month = int(m.group("d")), _month(m)
    if not 1 <= day <= 31:
        return None
    year = int(m.group("y")) if m.group("y") else (published.year if published else None)
    tokens = {f"{month:02d}-{day:02d}"}
    if year:
        try:
            tokens.add(f"wd{date(year, month, day).weekday()}")
        except ValueError:
            return None
    return frozenset(tokens)


def _weekday_day(weekday: int, published: date | None) -> Day:
    tokens = {f"wd{weekday}"}
    if published:
        back = (published.weekday() - weekday) % 7
        tokens.add((published - timedelta(days=back)).strftime("%m-%d"))
    return frozenset(tokens)


def days(sentence: str, published: date | None = None) -> list[Day]:
    """Each day the sentence names, as the tokens that stand for it (see the module's docstring).
    The capital an English weekday starts with is required: "may" the verb is no month, nor
    "march" the noun, unless a day's number goes with it."""
    out: list[Day] = []
    taken: list[tuple[int, int]] = []
    for pattern in (_DAY_MONTH, _MONTH_DAY):
        for m in pattern.finditer(sentence):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            found = _date_day(m, published)
            if found:
                out.append(found)
                taken.append(m.span())
    for m in _WEEKDAY.finditer(sentence):
        word = m.group()
        if word[0].isascii() and not word[0].isupper():
            continue
        out.append(_weekday_day(next(int(k[1:]) for k, v in m.groupdict().items() if v), published))
    return out


def months_alone(sentence: str) -> list[int]:
    """The months the sentence names as times without a day ("in May": 5), January being 1. An
    English month must be capitalised."""
    out = []
    for m in _MONTH_ALONE.finditer(sentence):
        name = next(k for k, v in m.groupdict().items() if v)
        word = m.group(name)
        if word[0].isascii() and not word[0].isupper():
            continue
        out.append(int(name[1:]) + 1)
    return out


def only_earlier_months(sentence: str, published: date | None) -> bool:
    """Does the sentence date itself by months alone, each before the month it was published in
    ("РДК ещё в мае заявлял" in a June article), and by no day? Such a time recaps."""
    if published is None or days(sentence, published):
        return False
    months = months_alone(sentence)
    return bool(months) and all(m < published.month for m in months)


def carried(claim: list[Day], known: set[str]) -> bool:
    """Does a text whose days' tokens are ``known`` name every day of the claim?"""
    return all(day & known for day in claim)


_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December")
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def describe(claim: list[Day]) -> str:
    """The days for a person: "25 May", else "Thursday" (``check --explain``)."""
    out = []
    for day in claim:
        dated = sorted(t for t in day if not t.startswith("wd"))
        if dated:
            month, number = map(int, dated[0].split("-"))
            out.append(f"{number} {_MONTH_NAMES[month - 1]}")
        else:
            out.append(" or ".join(_WEEKDAY_NAMES[int(t[2:])] for t in sorted(day)))
    return ", ".join(out)
