"""Watch queries: a watch matches when ANY keyword expression matches and NO exclude expression does.

An expression has terms, "quoted phrases", AND, OR, NOT (upper case) and parentheses; adjacent
items are ANDed. A term matches whole words of the folded text (case, diacritics, ё/е, quotes and
dashes folded, and letters that look alike across Latin and Cyrillic: ``monitor.lookalikes``); a
trailing ``*`` makes a word a prefix (``Белгород*``). A term or phrase of several words
(``"air raid"``, ``Ростов-на-Дону``) matches them in order, separated by spaces or punctuation
(``_`` included). Each expression compiles once into a tree; matching is pure.

Matching is linear in the text: the text is cut into words once (``Words``) and indexed (word ->
positions); a term looks its first word up (a prefix: a range of the sorted vocabulary) and checks
the words that follow each hit. No regular expression runs over the text, so no input backtracks
(the regexes this replaced took 7-17 s on a 125,000-character summary of words joined by
underscores against ``"Русск* добровольческ* корпус*"``; this takes milliseconds).

Expressions are checked when the settings load (``monitor.settings``): one that does not parse,
is nested deeper than ``MAX_DEPTH``, or looks like a regular expression is a config error naming
its key, before any process starts.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.errors import ConfigError
from monitor.lookalikes import fold_lookalikes

if TYPE_CHECKING:
    from monitor.settings import WatchSettings

MAX_DEPTH = 32  # parentheses and NOTs nested in one expression (1000 deep overflowed Python's stack)

_QUOTES = str.maketrans({c: '"' for c in "«»„“”‟″〝〞＂‹›"} | {c: "'" for c in "‘’‚‛′`´"})
_DASHES = re.compile(r"[\u2010-\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d]")
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200d\u2060\ufeff]")
_SPACE = re.compile(r"\s+")
_TOKEN = re.compile(r'\s*(?:(\()|(\))|"([^"]*)("?)|([^\s()"]+))')
_TEXT_WORD = re.compile(r"[^\W_]+")  # letters and digits; "_" separates words like punctuation
_TERM_WORD = re.compile(r"[^\W_]+\*?")
_STRAY_STAR = re.compile(r"(?<![^\W_])\*|\*(?=[^\W_])")  # a * that does not end a word
# What regular expressions have and keywords never need: .* .+ .? \w \d | (?i) [^...] [...]+ {2,5} ^... ...$
_REGEX_LIKE = re.compile(r'\.[*+?]|\\[A-Za-z]|\||\(\?|\[\^|\][*+?{]|\{\d+(?:,\d*)?\}|(?<![^\s("])\^|\$(?![^\s)"])')


def fold(text: str) -> str:
    """NFKD, no combining marks, casefold, ё->е, one kind of quote/dash, single spaces."""
    if text.isascii():  # the same result, without the Unicode work (most words of most articles)
        return _SPACE.sub(" ", text.translate(_QUOTES).lower()).strip()
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKD", text))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold().replace("ё", "е")
    return _SPACE.sub(" ", _DASHES.sub("-", text.translate(_QUOTES))).strip()


class Words:
    """A text as the matcher reads it: folded, look-alikes folded, cut into words once and indexed.

    Build it once per text and test every watch's query on it (``Query.matches_words``).
    """

    __slots__ = ("tokens", "_at", "_vocabulary")

    def __init__(self, text: str):
        self.tokens: list[str] = _TEXT_WORD.findall(fold_lookalikes(fold(text)))
        self._at: dict[str, list[int]] = {}
        for i, token in enumerate(self.tokens):
            self._at.setdefault(token, []).append(i)
        self._vocabulary: list[str] | None = None  # sorted, made on the first prefix look-up

    def positions(self, word: Word) -> Iterable[int]:
        """Where ``word`` matches: its positions, or (a prefix) those of every word it begins."""
        if not word.prefix:
            return self._at.get(word.text, ())
        if self._vocabulary is None:
            self._vocabulary = sorted(self._at)
        vocab = self._vocabulary
        lo = bisect_left(vocab, word.text)
        hi = bisect_left(vocab, word.text + "\U0010ffff", lo)
        return itertools.chain.from_iterable(self._at[w] for w in vocab[lo:hi])


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    prefix: bool

    def fits(self, token: str) -> bool:
        return token.startswith(self.text) if self.prefix else token == self.text


@dataclass(frozen=True, slots=True)
class Phrase:
    """One term: its words, in order, on consecutive words of the text."""

    words: tuple[Word, ...]

    def __call__(self, text: Words) -> bool:
        first, rest = self.words[0], self.words[1:]
        tokens, last = text.tokens, len(text.tokens) - len(rest)
        for i in text.positions(first):
            if i < last and all(w.fits(tokens[i + 1 + j]) for j, w in enumerate(rest)):
                return True
        return False


Match = Callable[[Words], bool]


def _leaf(term: str, parser: _Parser) -> Match:
    folded = fold_lookalikes(fold(term))
    if _STRAY_STAR.search(folded):
        raise parser.error("a * ends a word, as a prefix (Белгород*); it cannot start one, stand alone or sit "
                           "inside one")
    words = _TERM_WORD.findall(folded)
    if not words:
        raise parser.error(f"{term!r} has no word to match")
    return Phrase(tuple(Word(w.rstrip("*"), w.endswith("*")) for w in words))


class _Parser:
    """Recursive descent: or := and (OR and)* ; and := not ([AND] not)* ; not := NOT not | atom.
    Parentheses and NOTs nest at most ``MAX_DEPTH`` deep, so neither parsing nor matching recurses far."""

    def __init__(self, expr: str, key: str = ""):
        self.expr, self.key, self.i, self.depth = expr, key, 0, 0
        regex = _REGEX_LIKE.search(expr.translate(_QUOTES))
        if regex:
            raise self.error(f"looks like a regular expression ({regex.group()!r}); keywords are words, "
                             '"phrases", AND, OR, NOT, parentheses and a trailing * for word prefixes')
        self.tokens = self._tokenize(expr)

    def _tokenize(self, expr: str) -> list[tuple[str, str]]:
        tokens, pos, expr = [], 0, expr.translate(_QUOTES).rstrip()
        while pos < len(expr):
            m = _TOKEN.match(expr, pos)
            if not m:  # unreachable: every character starts some token
                raise self.error(f"cannot read {expr[pos:]!r}")
            pos = m.end()
            if m.group(1) or m.group(2):
                tokens.append(("(", "") if m.group(1) else (")", ""))
            elif m.group(3) is not None:
                if not m.group(4):
                    raise self.error("unclosed quote")
                tokens.append(("term", m.group(3)))
            elif m.group(5) in ("AND", "OR", "NOT"):
                tokens.append((m.group(5), ""))
            else:
                tokens.append(("term", m.group(5)))
        return tokens

    def error(self, why: str) -> ConfigError:
        return ConfigError(f"{self.key + ': ' if self.key else ''}bad expression {self.expr!r}: {why}")

    def peek(self) -> str | None:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def parse(self) -> Match:
        if not self.tokens:
            raise self.error("empty")
        node = self.or_()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.peek()}")
        return node

    def or_(self) -> Match:
        nodes = [self.and_()]
        while self.peek() == "OR":
            self.i += 1
            nodes.append(self.and_())
        return nodes[0] if len(nodes) == 1 else (lambda t: any(n(t) for n in nodes))

    def and_(self) -> Match:
        nodes = [self.not_()]
        while self.peek() in ("AND", "NOT", "(", "term"):
            if self.peek() == "AND":
                self.i += 1
            nodes.append(self.not_())
        return nodes[0] if len(nodes) == 1 else (lambda t: all(n(t) for n in nodes))

    def _nest(self, parse: Callable[[], Match]) -> Match:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"parentheses and NOTs nested more than {MAX_DEPTH} deep")
        node = parse()
        self.depth -= 1
        return node

    def not_(self) -> Match:
        if self.peek() == "NOT":
            self.i += 1
            inner = self._nest(self.not_)
            return lambda t: not inner(t)
        return self.atom()

    def atom(self) -> Match:
        kind = self.peek()
        if kind == "term":
            self.i += 1
            return _leaf(self.tokens[self.i - 1][1], self)
        if kind == "(":
            self.i += 1
            node = self._nest(self.or_)
            if self.peek() != ")":
                raise self.error("missing )")
            self.i += 1
            return node
        raise self.error(f"expected a term, got {kind or 'the end'}")


def compile_expression(expr: str, key: str = "") -> Match:
    """One keyword or exclude expression -> its matcher; ``ConfigError`` (prefixed ``key: ``) if it is bad."""
    return _Parser(expr, key).parse()


class Query:
    """Compiled keywords and excludes of one watch."""

    def __init__(self, keywords: Sequence[Match], exclude: Sequence[Match] = ()):
        self._keywords, self._exclude = tuple(keywords), tuple(exclude)

    @classmethod
    def parse(cls, keywords: Sequence[str], exclude: Sequence[str] = ()) -> Query:
        return cls([compile_expression(k, "keywords") for k in keywords],
                   [compile_expression(x, "exclude") for x in exclude])

    def matches(self, text: str) -> bool:
        return self.matches_words(Words(text))

    def matches_words(self, words: Words) -> bool:
        """``matches`` on a text already read (read once, test many watches)."""
        return any(k(words) for k in self._keywords) and not any(x(words) for x in self._exclude)


def watch_query(watch: WatchSettings) -> Query:
    try:
        return Query.parse(watch.keywords, watch.exclude)
    except ConfigError as e:
        raise ConfigError(f"watches.{watch.name}.{e}") from None
