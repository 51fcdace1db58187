"""The text form of a rule: a tokenizer and a recursive-descent parser (the text is never run as Python).

Grammar::

    rule      := or
    or        := and ("or" and)*
    and       := unary ("and" unary)*
    unary     := "not" unary | "(" rule ")" | predicate
    predicate := FIELD CMP value
               | FIELD "in" "[" [value ("," value)*] "]"
               | FIELD "contains" STRING | FIELD "startswith" STRING
               | FIELD "is" ["not"] "missing"
               | FIELD "within" ("next" | "last") INT ("day" | "days")
    value     := STRING | NUMBER | "true" | "false"
    CMP       := "==" | "!=" | "<" | "<=" | ">" | ">="       ("=" is read as "==")

Strings take single or double quotes with backslash escapes (``\\'``, ``\\"``, ``\\\\``, ``\\n``, ``\\t``,
``\\r``, ``\\uXXXX``). Numbers are whole (``12``) or exact decimals (``12.50``, ``1E+3``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from custdata.exceptions import RuleSyntaxError, ValidationError
from custdata.segments._rules import (
    RESERVED,
    And,
    Compare,
    Contains,
    In,
    Missing,
    Not,
    Or,
    Predicate,
    Present,
    Rule,
    StartsWith,
    Value,
    WithinLast,
    WithinNext,
    canonical_value,
)
from custdata.segments._schema import check_predicate, schema_of

__all__ = ["parse"]

MAX_LENGTH = 100_000
MAX_DEPTH = 200


class Token(NamedTuple):
    kind: str  # name, string, number, op, punct, end
    text: str
    value: Any
    pos: int


_DIGITS = "0123456789"
_OPS = ("==", "!=", "<=", ">=", "<", ">", "=")
_ESCAPES = {"'": "'", '"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "/": "/"}


def _err(message: str, text: str, pos: int) -> RuleSyntaxError:
    return RuleSyntaxError(message, text=text, position=pos)


def _describe(tok: Token) -> str:
    return "the end of the rule" if tok.kind == "end" else repr(tok.text)


def tokenize(text: str) -> list[Token]:
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if ch in "'\"":
            quote = ch
            i += 1
            buf: list[str] = []
            while True:
                if i >= n:
                    raise _err("unterminated string", text, start)
                c = text[i]
                if c == quote:
                    i += 1
                    break
                if c == "\\":
                    if i + 1 >= n:
                        raise _err("unterminated string", text, start)
                    e = text[i + 1]
                    if e in _ESCAPES:
                        buf.append(_ESCAPES[e])
                        i += 2
                    elif e == "u":
                        hexits = text[i + 2 : i + 6]
                        if len(hexits) != 4 or any(h not in "0123456789abcdefABCDEF" for h in hexits):
                            raise _err("bad \\u escape (four hex digits)", text, i)
                        buf.append(chr(int(hexits, 16)))
                        i += 6
                    else:
                        raise _err(f"unknown escape \\{e}", text, i)
                    continue
                buf.append(c)
                i += 1
            out.append(Token("string", text[start:i], "".join(buf), start))
            continue
        if ch in _DIGITS or (ch in "-+." and i + 1 < n and text[i + 1] in _DIGITS + "."):
            i += 1
            while i < n and (text[i].isalnum() or text[i] in ".+-_"):
                # a sign belongs to the number only right after an exponent mark
                if text[i] in "+-" and text[i - 1] not in "eE":
                    break
                i += 1
            word = text[start:i]
            out.append(Token("number", word, _number(word, text, start), start))
            continue
        if ch.isalpha() or ch == "_":
            i += 1
            while i < n and (text[i].isalnum() or text[i] == "_"):
                i += 1
            word = text[start:i]
            if not word.isidentifier():
                raise _err(f"not a field name or keyword: {word!r}", text, start)
            out.append(Token("name", word, word, start))
            continue
        op = next((o for o in _OPS if text.startswith(o, i)), None)
        if op is not None:
            i += len(op)
            out.append(Token("op", op, "==" if op == "=" else op, start))
            continue
        if ch in "()[],":
            i += 1
            out.append(Token("punct", ch, ch, start))
            continue
        # an unexpected character: the parser reports it (or an earlier mistake) where it gets to it
        out.append(Token("bad", ch, None, start))
        break
    out.append(Token("end", "", None, n))
    return out


def _number(word: str, text: str, pos: int) -> int | Decimal:
    digits = word.lstrip("+-")
    if not word.isascii() or "_" in word or len(word) - len(digits) > 1:
        raise _err(f"not a number: {word!r}", text, pos)
    if digits.isdigit():
        return int(word)
    try:
        d = Decimal(word)
    except InvalidOperation:
        raise _err(f"not a number: {word!r}", text, pos) from None
    if not d.is_finite() or not any(c.isdigit() for c in word.split("e")[0].split("E")[0]):
        raise _err(f"not a number: {word!r}", text, pos)
    return d


class _Parser:
    def __init__(self, text: str, schema: dict[str, str] | None) -> None:
        self.text = text
        self.toks = tokenize(text)
        self.i = 0
        self.schema = schema
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def fail(self, message: str, tok: Token | None = None) -> RuleSyntaxError:
        t = tok or self.tok
        return _err(message, self.text, t.pos)

    def word(self, *words: str) -> bool:
        t = self.tok
        return t.kind == "name" and t.text.lower() in words

    def take(self) -> Token:
        t = self.tok
        self.i += 1
        return t

    def expect_word(self, *words: str) -> Token:
        if not self.word(*words):
            raise self.fail(f"expected {' or '.join(repr(w) for w in words)}, got {_describe(self.tok)}")
        return self.take()

    def expect_punct(self, ch: str) -> Token:
        if self.tok.kind != "punct" or self.tok.text != ch:
            raise self.fail(f"expected {ch!r}, got {_describe(self.tok)}")
        return self.take()

    def parse(self) -> Rule:
        if not self.text.strip():
            raise self.fail("empty rule")
        rule = self.or_()
        if self.tok.kind != "end":
            raise self.fail(f"unexpected {_describe(self.tok)} (expected 'and', 'or' or the end)")
        return rule

    def or_(self) -> Rule:
        parts = [self.and_()]
        while self.word("or"):
            self.take()
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else Or(*parts)

    def and_(self) -> Rule:
        parts = [self.unary()]
        while self.word("and"):
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else And(*parts)

    def unary(self) -> Rule:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"the rule nests deeper than {MAX_DEPTH} levels")
        try:
            if self.word("not"):
                self.take()
                return Not(self.unary())
            if self.tok.kind == "punct" and self.tok.text == "(":
                self.take()
                inner = self.or_()
                self.expect_punct(")")
                return inner
            return self.predicate()
        finally:
            self.depth -= 1

    def checked(self, t: Token) -> Any:
        """The token's value, refused (pointing at it) when no store can hold it."""
        try:
            canonical_value(t.value)
        except ValidationError as exc:
            raise self.fail(str(exc), t) from None
        return t.value

    def value(self) -> Value:
        t = self.tok
        if t.kind in ("string", "number"):
            self.take()
            return self.checked(t)  # type: ignore[no-any-return]
        if self.word("true", "false"):
            self.take()
            return t.text.lower() == "true"
        raise self.fail(f"expected a value (a quoted string, a number, true or false), got {_describe(t)}")

    def string(self, what: str) -> str:
        t = self.tok
        if t.kind != "string":
            raise self.fail(f"{what} takes a quoted string, got {_describe(t)}")
        self.take()
        return self.checked(t)  # type: ignore[no-any-return]

    def predicate(self) -> Rule:
        ftok = self.tok
        if ftok.kind != "name" or ftok.text.lower() in RESERVED:
            raise self.fail(f"expected a field name, '(' or 'not', got {_describe(ftok)}")
        self.take()
        field = ftok.text
        t = self.tok
        pred: Predicate
        try:
            if t.kind == "op":
                self.take()
                pred = Compare(field, t.value, self.value())
            elif self.word("in"):
                self.take()
                self.expect_punct("[")
                values: list[Value] = []
                if not (self.tok.kind == "punct" and self.tok.text == "]"):
                    values.append(self.value())
                    while self.tok.kind == "punct" and self.tok.text == ",":
                        self.take()
                        values.append(self.value())
                self.expect_punct("]")
                pred = In(field, values)
            elif self.word("contains"):
                self.take()
                pred = Contains(field, self.string("contains"))
            elif self.word("startswith"):
                self.take()
                pred = StartsWith(field, self.string("startswith"))
            elif self.word("is"):
                self.take()
                negated = False
                if self.word("not"):
                    self.take()
                    negated = True
                self.expect_word("missing")
                pred = Present(field) if negated else Missing(field)
            elif self.word("within"):
                self.take()
                which = self.expect_word("next", "last").text.lower()
                n = self.tok
                if n.kind != "number" or not isinstance(n.value, int) or n.value < 0:
                    raise self.fail(f"expected a whole number of days, got {_describe(n)}")
                self.take()
                self.expect_word("day", "days")
                pred = WithinNext(field, n.value) if which == "next" else WithinLast(field, n.value)
            else:
                raise self.fail(
                    "expected a comparison (== != < <= > >=), 'in', 'contains', 'startswith', 'is' or "
                    f"'within' after {field!r}, got {_describe(t)}"
                )
        except ValidationError as exc:
            raise self.fail(str(exc), t) from None
        if self.schema is not None:
            check_predicate(pred, self.schema, text=self.text, position=ftok.pos)
        return pred


def parse(text: str, *, schema: Any = None) -> Rule:
    if not isinstance(text, str):
        raise RuleSyntaxError(f"rule text must be a str, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise RuleSyntaxError(f"rule text longer than {MAX_LENGTH} characters")
    return _Parser(text, schema_of(schema)).parse()
