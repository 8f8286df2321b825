"""The executive's own aggregations across services (model 5.4): a small arithmetic language
over per-period figures, e.g. ``sum(cost where users = external) / sum(transactions where users = external)``.

Expressions are parsed by hand into an immutable tree and evaluated by walking it; nothing is
ever handed to ``eval``. Grammar (keywords, functions and fields are case-insensitive)::

    expr      := term (('+' | '-') term)*
    term      := unary (('*' | '/') unary)*
    unary     := '-' unary | atom
    atom      := NUMBER | '(' expr ')' | call
    call      := FUNC '(' METRIC ['where' cond ('and' cond)*] ')'
    FUNC      := sum | avg | min | max | count | median
    cond      := FIELD ('=' | '!=') VALUE | FIELD ['not'] 'in' '(' VALUE (',' VALUE)* ')'
    VALUE     := bare word of letters, digits, '_' and '-' | "quoted, with \\" and \\\\ escapes"

Inside a call a hyphen belongs to the metric key (``cost-per-transaction``); outside one it is
always minus, and a hyphenated word there is reported with a hint to put spaces around '-'.
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Iterable, Mapping, Sequence

__all__ = [
    "FUNCTIONS", "MAX_LENGTH", "MAX_NESTING", "MAX_CALLS", "ExpressionError", "Condition", "Call", "Number", "Negate",
    "Operation", "Node", "Expression", "Result", "parse", "matches",
]

FUNCTIONS = ("sum", "avg", "min", "max", "count", "median")
MAX_LENGTH = 2_000
MAX_NESTING = 40
MAX_CALLS = 50
OPERATORS = ("=", "!=", "in", "not in")

_DIGITS = frozenset("0123456789")
_WORD_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_") | _DIGITS
_WORD = _WORD_START | {"-"}
_SPACE = frozenset(" \t\r\n")
_BARE = re.compile(r"[a-z0-9_-]+")
_FUNCTION_LIST = "sum, avg, min, max, count or median"
_MINUS_HINT = " (if '-' means minus, put spaces around it)"


class ExpressionError(ValueError):
    """A mistake in an expression: ``message`` for a person, ``position`` a 0-based offset."""

    def __init__(self, message: str, position: int):
        super().__init__(message)
        self.message = message
        self.position = position


# --- the tree ------------------------------------------------------------------------
# Frozen dataclasses compare and hash by value, so equal calls can be fetched once and a
# reparsed expression compares equal to the original.


def _value_text(value: str) -> str:
    if _BARE.fullmatch(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Condition:
    """``field op values``; ``=`` and ``!=`` carry one value, ``in`` and ``not in`` one or more."""

    field: str
    op: str
    values: tuple[str, ...]

    def __str__(self) -> str:
        if self.op in ("in", "not in"):
            return f"{self.field} {self.op} ({', '.join(_value_text(v) for v in self.values)})"
        return f"{self.field} {self.op} {_value_text(self.values[0])}"


@dataclass(frozen=True)
class Call:
    """One aggregate over the services whose attributes satisfy every condition."""

    func: str
    metric: str
    conditions: tuple[Condition, ...] = ()

    @property
    def selection(self) -> str:
        """The metric and its filter as written inside the call, e.g. ``cost where users = external``."""
        if not self.conditions:
            return self.metric
        return f"{self.metric} where {' and '.join(str(c) for c in self.conditions)}"

    def __str__(self) -> str:
        return f"{self.func}({self.selection})"


@dataclass(frozen=True)
class Number:
    value: Decimal

    def __post_init__(self):
        # A negative literal would print as "-x" and reparse as Negate(x); keep one spelling.
        if not self.value.is_finite() or self.value.is_signed():
            raise ValueError("a Number holds a finite, non-negative Decimal; use Negate for minus")

    def __str__(self) -> str:
        return format(self.value, "f")


@dataclass(frozen=True)
class Negate:
    operand: Node

    def __str__(self) -> str:
        return "-" + _operand_text(self.operand, 0)


@dataclass(frozen=True)
class Operation:
    """A left-to-right chain at one precedence level: ``first (op operand)*``, ops all in
    ``+ -`` or all in ``* /``. Chains rather than binary nodes keep a long sum shallow."""

    first: Node
    rest: tuple[tuple[str, Node], ...]

    def __post_init__(self):
        ops = {op for op, _ in self.rest}
        if not self.rest or not (ops <= {"+", "-"} or ops <= {"*", "/"}):
            raise ValueError("an Operation needs one or more operators of the same precedence")

    @property
    def level(self) -> int:
        return 1 if self.rest[0][0] in "+-" else 2

    def __str__(self) -> str:
        parts = [_operand_text(self.first, self.level)]
        for op, operand in self.rest:
            parts.append(f" {op} {_operand_text(operand, self.level)}")
        return "".join(parts)


Node = Number | Negate | Operation | Call


def _operand_text(node: Node, level: int) -> str:
    # Parenthesise a chain inside a chain of the same or a tighter level (or inside a minus
    # sign): exactly the cases where the source must have had parentheses too.
    if isinstance(node, Operation) and (level == 0 or node.level <= level):
        return f"({node})"
    return str(node)


def _walk(node: Node) -> Iterable[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, Negate):
            stack.append(current.operand)
        elif isinstance(current, Operation):
            stack.extend(operand for _, operand in reversed(current.rest))
            stack.append(current.first)


@dataclass(frozen=True)
class Result:
    """The figure for one period, or None with the reason a person can read."""

    value: Decimal | None
    reason: str = ""


class Expression:
    """A parsed expression. ``text`` is its normalised spelling; ``parse(str(e)) == e``."""

    __slots__ = ("root", "text")

    def __init__(self, root: Node):
        self.root = root
        self.text = str(root)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Expression) and self.root == other.root

    def __hash__(self) -> int:
        return hash(self.root)

    def calls(self) -> list[Call]:
        """Every call, in reading order (a repeated call appears each time it is written)."""
        return [node for node in _walk(self.root) if isinstance(node, Call)]

    def metrics(self) -> set[str]:
        return {call.metric for call in self.calls()}

    def evaluate(self, values: Callable[[Call], Sequence[Decimal]]) -> Result:
        """Compute the figure; ``values(call)`` gives the matching services' values for the
        period and is asked once per distinct call."""
        fetched: dict[Call, list[Decimal]] = {}

        def fetch(call: Call) -> list[Decimal]:
            if call not in fetched:
                fetched[call] = [_as_decimal(v) for v in values(call)]
            return fetched[call]

        context = decimal.Context(prec=28, rounding=decimal.ROUND_HALF_EVEN,
                                  traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])
        try:
            with decimal.localcontext(context):
                return _evaluate(self.root, fetch)
        except decimal.Overflow:
            return Result(None, "the figures are too large to compute with")


def _as_decimal(value) -> Decimal:
    # Money and measures never pass through float; a float here is a caller's mistake.
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"values must be Decimal or int, not {type(value).__name__}")
    return Decimal(value)


def _evaluate(node: Node, fetch: Callable[[Call], list[Decimal]]) -> Result:
    if isinstance(node, Number):
        return Result(node.value)
    if isinstance(node, Call):
        return _aggregate(node, fetch(node))
    if isinstance(node, Negate):
        inner = _evaluate(node.operand, fetch)
        return inner if inner.value is None else Result(-inner.value)
    total = _evaluate(node.first, fetch)
    if total.value is None:
        return total
    value = total.value
    for op, operand in node.rest:
        right = _evaluate(operand, fetch)
        if right.value is None:
            return right
        if op == "+":
            value = value + right.value
        elif op == "-":
            value = value - right.value
        elif op == "*":
            value = value * right.value
        elif right.value == 0:
            return Result(None, f"division by zero: {operand} is 0")
        else:
            value = value / right.value
    return Result(value)


def _aggregate(call: Call, values: list[Decimal]) -> Result:
    if any(not v.is_finite() for v in values):
        return Result(None, f"a service reported a value of {call.metric} that is not a number")
    if call.func == "count":
        return Result(Decimal(len(values)))
    if call.func == "sum":
        return Result(sum(values, Decimal(0)))
    if not values:
        return Result(None, f"no service reported {call.selection}")
    if call.func == "avg":
        return Result(sum(values, Decimal(0)) / len(values))
    if call.func == "min":
        return Result(min(values))
    if call.func == "max":
        return Result(max(values))
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return Result(ordered[middle])
    return Result((ordered[middle - 1] + ordered[middle]) / 2)


def matches(conditions: Iterable[Condition], attributes: Mapping[str, str | set[str] | frozenset[str] | None]) -> bool:
    """Whether a service with these attributes satisfies every condition. An attribute may
    hold several values (tags): ``=`` then means "has", ``!=`` "has not", ``in`` "has any
    of", ``not in`` "has none of". A missing attribute has no values. Case is ignored."""
    for condition in conditions:
        held = attributes.get(condition.field)
        if held is None:
            have: set[str] = set()
        elif isinstance(held, str):
            have = {held.casefold()}
        else:
            have = {h.casefold() for h in held}
        wanted = {v.casefold() for v in condition.values}
        hit = bool(have & wanted)
        if hit != (condition.op in ("=", "in")):
            return False
    return True


# --- the parser --------------------------------------------------------------------


def parse(source: str, *, fields: Mapping[str, set[str] | frozenset[str] | None]) -> Expression:
    """Parse ``source``; ``fields`` maps each field a condition may name to its allowed values
    (None: any value). Raises ExpressionError with a message and position."""
    if not isinstance(source, str):
        raise ExpressionError("Write the expression as text", 0)
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"The expression is {len(source):,} characters long: the limit is {MAX_LENGTH:,}", MAX_LENGTH)
    if not source.strip():
        raise ExpressionError("Write an expression, e.g. sum(cost) / sum(transactions)", 0)
    return Expression(_Parser(source, fields).parse())


class _Parser:
    def __init__(self, source: str, fields: Mapping[str, set[str] | frozenset[str] | None]):
        self.s = source
        self.n = len(source)
        self.i = 0
        self.fields = {name.lower(): allowed for name, allowed in fields.items()}
        self.depth = 0
        self.call_count = 0

    # -- scanning helpers
    def fail(self, message: str, position: int | None = None):
        raise ExpressionError(message, self.i if position is None else position)

    def peek(self) -> str:
        while self.i < self.n and self.s[self.i] in _SPACE:
            self.i += 1
        return self.s[self.i] if self.i < self.n else ""

    def word(self, start_chars=_WORD_START) -> str:
        """Read a word at the cursor (after spaces); empty if none starts here."""
        self.peek()
        start = self.i
        if self.i < self.n and self.s[self.i] in start_chars:
            self.i += 1
            while self.i < self.n and self.s[self.i] in _WORD:
                self.i += 1
        return self.s[start:self.i]

    def keyword(self, *options: str) -> str:
        """Consume the next word if it is one of ``options`` (case-insensitive)."""
        self.peek()
        start = self.i
        found = self.word().lower()
        if found in options:
            return found
        self.i = start
        return ""

    def column(self, position: int | None = None) -> int:
        return (self.i if position is None else position) + 1

    def shown(self) -> str:
        """The word or character at the cursor, for messages."""
        if self.peek() == "":
            return "the end"
        start = self.i
        text = self.word(_WORD) or self.s[start]
        self.i = start
        return f"'{text}'"

    def enter(self, position: int):
        self.depth += 1
        if self.depth > MAX_NESTING:
            self.fail(f"Too deeply nested at column {self.column(position)}: "
                      f"at most {MAX_NESTING} levels of parentheses and minus signs", position)

    # -- grammar
    def parse(self) -> Node:
        root = self.expr()
        if self.peek() == ")":
            self.fail(f"Unexpected ')' at column {self.column()}: there is no '(' for it to close")
        if self.peek():
            self.fail(f"Unexpected {self.shown()} at column {self.column()}: expected an operator (+, -, *, /) or the end")
        return root

    def expr(self) -> Node:
        first = self.term()
        rest = []
        while self.peek() in ("+", "-"):
            op = self.s[self.i]
            self.i += 1
            rest.append((op, self.term()))
        return Operation(first, tuple(rest)) if rest else first

    def term(self) -> Node:
        first = self.unary()
        rest = []
        while self.peek() in ("*", "/"):
            op = self.s[self.i]
            self.i += 1
            rest.append((op, self.unary()))
        return Operation(first, tuple(rest)) if rest else first

    def unary(self) -> Node:
        if self.peek() != "-":
            return self.atom()
        self.enter(self.i)
        self.i += 1
        node = Negate(self.unary())
        self.depth -= 1
        return node

    def atom(self) -> Node:
        char = self.peek()
        if char == "(":
            self.enter(self.i)
            self.i += 1
            node = self.expr()
            if self.peek() != ")":
                self.fail(f"Expected ')' at column {self.column()}")
            self.i += 1
            self.depth -= 1
            return node
        if char in _DIGITS:
            return self.number()
        if char == ".":
            self.fail(f"Write a digit before the '.' at column {self.column()}, e.g. 0.5")
        if char in _WORD_START:
            return self.call()
        if char == "":
            self.fail(f"The expression ends too soon at column {self.column()}: expected a number, a function such as "
                      "sum(...) or '('")
        self.fail(f"Unexpected '{char}' at column {self.column()}: expected a number, a function such as sum(...) or '('")

    def number(self) -> Number:
        start = self.i
        while self.i < self.n and self.s[self.i] in _DIGITS:
            self.i += 1
        if self.i < self.n and self.s[self.i] == ".":
            self.i += 1
            if self.i >= self.n or self.s[self.i] not in _DIGITS:
                self.fail(f"Expected a digit after '.' at column {self.column()}")
            while self.i < self.n and self.s[self.i] in _DIGITS:
                self.i += 1
        if self.i < self.n and self.s[self.i] in _WORD_START | {"."}:
            self.fail(f"Unexpected {self.shown()} at column {self.column()}: put an operator or a space after the number "
                      f"{self.s[start:self.i]}")
        return Number(Decimal(self.s[start:self.i]))

    def call(self) -> Call:
        start = self.i
        name = self.word()
        func = name.lower()
        hint = _MINUS_HINT if "-" in name else ""
        if self.peek() != "(":
            if func in FUNCTIONS:
                self.fail(f"Expected '(' after '{name}' at column {self.column()}")
            self.fail(f"'{name}' at column {self.column(start)} is not a function: put a metric inside one, "
                      f"e.g. sum({name.lower()}){hint}", start)
        if func not in FUNCTIONS:
            self.fail(f"Unknown function '{name}' at column {self.column(start)}: use {_FUNCTION_LIST}{hint}", start)
        self.call_count += 1
        if self.call_count > MAX_CALLS:
            self.fail(f"Too many functions at column {self.column(start)}: at most {MAX_CALLS} in one expression", start)
        self.i += 1
        metric_at = self.i
        metric = self.word()
        if not metric:
            self.peek()
            self.fail(f"Expected a metric key at column {self.column()}, e.g. {func}(transactions)")
        if metric.endswith("-"):
            self.fail(f"Metric key '{metric}' at column {self.column(metric_at)} cannot end with '-'", metric_at)
        conditions = []
        if self.keyword("where"):
            conditions.append(self.condition())
            while self.keyword("and"):
                conditions.append(self.condition())
        if self.peek() != ")":
            expected = "'and' or ')'" if conditions else "'where' or ')'"
            if self.peek() in ("+", "-", "*", "/"):
                self.fail(f"Expected {expected} at column {self.column()}: do arithmetic outside the function, "
                          f"e.g. {func}(a) {self.peek()} {func}(b)")
            self.fail(f"Expected {expected} at column {self.column()}")
        self.i += 1
        return Call(func, metric.lower(), tuple(conditions))

    def condition(self) -> Condition:
        known = ", ".join(sorted(self.fields))
        self.peek()
        start = self.i
        name = self.word()
        if not name:
            self.fail(f"Expected a field at column {self.column()}: use one of: {known}")
        field = name.lower()
        if field not in self.fields:
            self.fail(f"Unknown field '{name}' — use one of: {known}", start)
        char = self.peek()
        if self.s.startswith("!=", self.i):
            self.i += 2
            return Condition(field, "!=", (self.value(field),))
        if char == "=":
            self.i += 1
            return Condition(field, "=", (self.value(field),))
        op = self.keyword("in", "not")
        if op == "not" and not self.keyword("in"):
            self.fail(f"Expected 'in' after 'not' at column {self.column()}")
        if not op:
            self.fail(f"Expected '=', '!=', 'in' or 'not in' after '{field}' at column {self.column()}")
        op = "in" if op == "in" else "not in"
        if self.peek() != "(":
            self.fail(f"Expected '(' after '{op}' at column {self.column()}, e.g. {field} {op} (a, b)")
        self.i += 1
        values = [self.value(field)]
        while self.peek() == ",":
            self.i += 1
            values.append(self.value(field))
        if self.peek() != ")":
            self.fail(f"Expected ',' or ')' at column {self.column()}")
        self.i += 1
        return Condition(field, op, tuple(values))

    def value(self, field: str) -> str:
        char = self.peek()
        start = self.i
        if char == '"':
            self.i += 1
            chars = []
            while True:
                if self.i >= self.n:
                    self.fail(f"Unclosed quote at column {self.column(start)}: end the value with '\"'", start)
                char = self.s[self.i]
                if char == "\\" and self.i + 1 < self.n:
                    chars.append(self.s[self.i + 1])
                    self.i += 2
                elif char == '"':
                    self.i += 1
                    break
                else:
                    chars.append(char)
                    self.i += 1
            value = "".join(chars)
            if not value:
                self.fail(f"Empty value at column {self.column(start)}", start)
        else:
            value = self.word(_WORD).lower()
            if not value:
                self.fail(f'Expected a value at column {self.column()}: a word such as live, or a "quoted value"')
        allowed = self.fields[field]
        if allowed is None:
            return value
        for candidate in sorted(allowed):
            if candidate.casefold() == value.casefold():
                return candidate
        written = self.s[start:self.i]  # as the person typed it: a quoted value keeps its quotes
        shown = written if char == '"' else f"'{written}'"
        self.fail(f"{field.capitalize()} cannot be {shown}: use one of {', '.join(sorted(allowed))}", start)
