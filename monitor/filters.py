"""Watch queries: a watch matches when ANY keyword expression matches and NO exclude expression does.

An expression has terms, "quoted phrases", AND, OR, NOT (upper case) and parentheses; adjacent
items are ANDed. A term matches whole words of the folded text (case, diacritics, ё/е, quotes and
dashes folded; any script); a trailing ``*`` makes a word a prefix (``Белгород*``). A term or phrase
of several words (``"air raid"``, ``Ростов-на-Дону``) matches them in order, separated by spaces or
punctuation. Each expression compiles once into a tree of regexes; matching is pure.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

from monitor.errors import ConfigError
from monitor.settings import WatchSettings

_QUOTES = str.maketrans({c: '"' for c in "«»„“”‟″〝〞＂‹›"} | {c: "'" for c in "‘’‚‛′`´"})
_DASHES = re.compile(r"[\u2010-\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d]")
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200d\u2060\ufeff]")
_SPACE = re.compile(r"\s+")
_TOKEN = re.compile(r'\s*(?:(\()|(\))|"([^"]*)("?)|([^\s()"]+))')
_WORD = re.compile(r"\w+\*?")

Match = Callable[[str], bool]


def fold(text: str) -> str:
    """NFKD, no combining marks, casefold, ё->е, one kind of quote/dash, single spaces."""
    if text.isascii():  # the same result, without the Unicode work (most words of most articles)
        return _SPACE.sub(" ", text.translate(_QUOTES).lower()).strip()
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKD", text))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold().replace("ё", "е")
    return _SPACE.sub(" ", _DASHES.sub("-", text.translate(_QUOTES))).strip()


def _leaf(term: str, parser: _Parser) -> Match:
    words = _WORD.findall(fold(term))
    if not words:
        raise parser.error(f"{term!r} has no word to match")
    parts = [re.escape(w.rstrip("*")) + (r"\w*" if w.endswith("*") else "") for w in words]
    pattern = re.compile(r"(?<!\w)" + r"[\W_]+".join(parts) + r"(?!\w)")
    return lambda folded: pattern.search(folded) is not None


class _Parser:
    """Recursive descent: or := and (OR and)* ; and := not ([AND] not)* ; not := NOT not | atom."""

    def __init__(self, expr: str, key: str = "keywords"):
        self.expr, self.key, self.i = expr, key, 0
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
        return ConfigError(f"{self.key}: bad expression {self.expr!r}: {why}")

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

    def not_(self) -> Match:
        if self.peek() == "NOT":
            self.i += 1
            inner = self.not_()
            return lambda t: not inner(t)
        return self.atom()

    def atom(self) -> Match:
        kind = self.peek()
        if kind == "term":
            self.i += 1
            return _leaf(self.tokens[self.i - 1][1], self)
        if kind == "(":
            self.i += 1
            node = self.or_()
            if self.peek() != ")":
                raise self.error("missing )")
            self.i += 1
            return node
        raise self.error(f"expected a term, got {kind or 'the end'}")


class Query:
    """Compiled keywords and excludes of one watch."""

    def __init__(self, keywords: Sequence[Match], exclude: Sequence[Match] = ()):
        self._keywords, self._exclude = tuple(keywords), tuple(exclude)

    @classmethod
    def parse(cls, keywords: Sequence[str], exclude: Sequence[str] = ()) -> Query:
        return cls([_Parser(k).parse() for k in keywords], [_Parser(x, "exclude").parse() for x in exclude])

    def matches(self, text: str) -> bool:
        return self.matches_folded(fold(text))

    def matches_folded(self, folded: str) -> bool:
        """``matches`` on text already passed through ``fold`` (fold once, test many watches)."""
        return any(k(folded) for k in self._keywords) and not any(x(folded) for x in self._exclude)


def watch_query(watch: WatchSettings) -> Query:
    try:
        return Query.parse(watch.keywords, watch.exclude)
    except ConfigError as e:
        raise ConfigError(f"watches.{watch.name}.{e}") from None
