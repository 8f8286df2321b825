"""The aggregation language: grammar, normal form, every error with its position, limits,
evaluation (Decimal only, None with a reason), and properties checked on random input."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from osom.fitness.expressions import (
    FUNCTIONS, Call, Condition, Expression, ExpressionError, Negate, Number, Operation, Result, matches, parse,
)

FIELDS: dict[str, set[str] | None] = {
    "stage": {"discovery", "alpha", "beta", "live", "retired"},
    "evolution": {"genesis", "custom", "product", "commodity"},
    "users": {"internal", "external"},
    "service": None,
}


def p(source: str) -> Expression:
    return parse(source, fields=FIELDS)


def n(value) -> Number:
    return Number(Decimal(str(value)))


# --- grammar ----------------------------------------------------------------------


@pytest.mark.parametrize("source", [
    "sum(cost where users = external) / sum(transactions where users = external)",
    "avg(user-satisfaction where stage in (beta, live))",
    "100 * sum(digital-transactions) / sum(transactions)",
    "count(availability where evolution = commodity)",
])
def test_the_examples_parse_and_print_back_unchanged(source):
    assert p(source).text == source
    assert p(str(p(source))) == p(source)


def test_precedence_parentheses_and_unary_minus():
    assert p("1 + 2 * 3").root == Operation(n(1), (("+", Operation(n(2), (("*", n(3)),))),))
    assert p("(1+2)*3").root == Operation(Operation(n(1), (("+", n(2)),)), (("*", n(3)),))
    assert p("-2 * 3").root == Operation(Negate(n(2)), (("*", n(3)),))
    assert p("1 - -2").root == Operation(n(1), (("-", Negate(n(2))),))
    assert p("-(1 + 2)").text == "-(1 + 2)"
    assert p("8 / 4 / 2").evaluate(lambda c: []).value == 1
    assert p("10 - 4 - 3").evaluate(lambda c: []).value == 3
    assert p("(1+2)*3").evaluate(lambda c: []).value == 9
    assert p("2 - 3").root == p("2-3").root  # outside a call '-' is minus even without spaces


def test_normal_form_lowercases_words_and_keeps_needed_parentheses():
    e = p('SUM(Cost-Per-Transaction WHERE Stage NOT IN (Live, BETA) AND Service = "My \\"Pay\\"" and service != Tax)')
    assert e.text == 'sum(cost-per-transaction where stage not in (live, beta) and service = "My \\"Pay\\"" and service != tax)'
    assert e.calls() == [Call("sum", "cost-per-transaction", (
        Condition("stage", "not in", ("live", "beta")), Condition("service", "=", ('My "Pay"',)),
        Condition("service", "!=", ("tax",))))]
    assert p("(1 + 2) + 3").text == "(1 + 2) + 3"  # the tree is kept as written
    assert p("1 - (2 - 3)").text == "1 - (2 - 3)"
    assert p("((1)) * (2 * 3)").text == "1 * (2 * 3)"
    assert p("--1").text == "--1"
    assert p("1.50 * 2").text == "1.50 * 2"


def test_metrics_and_calls_let_a_caller_fetch_once_per_distinct_call():
    e = p("sum(cost where users = external) / sum(transactions) + sum(cost where users = external) - count(cost)")
    assert e.metrics() == {"cost", "transactions"}
    assert len(e.calls()) == 4 and len(set(e.calls())) == 3
    asked = []
    e.evaluate(lambda call: asked.append(call) or [Decimal(1)])
    assert len(asked) == 3


# --- errors ------------------------------------------------------------------------


@pytest.mark.parametrize("source, message, position", [
    ("avgg(x)", "Unknown function 'avgg' at column 1: use sum, avg, min, max, count or median", 0),
    ("avg(cost) + avg-sum(x)", "Unknown function 'avg-sum' at column 13: use sum, avg, min, max, count or median "
                               "(if '-' means minus, put spaces around it)", 12),
    ("(1 + sum(cost) * 2", "Expected ')' at column 19", 18),
    ("sum(x where stag = live)", "Unknown field 'stag' — use one of: evolution, service, stage, users", 12),
    ("sum(x where stage = lve)", "Stage cannot be 'lve': use one of alpha, beta, discovery, live, retired", 20),
    ("sum(x where stage in (beta, LVE))", "Stage cannot be 'LVE': use one of alpha, beta, discovery, live, retired", 28),
    ('sum(x where users = "Outside")', 'Users cannot be "Outside": use one of external, internal', 20),
    ("1 + transactions", "'transactions' at column 5 is not a function: put a metric inside one, e.g. sum(transactions)", 4),
    ("sum", "Expected '(' after 'sum' at column 4", 3),
    ("sum()", "Expected a metric key at column 5, e.g. sum(transactions)", 4),
    ("sum(a-)", "Metric key 'a-' at column 5 cannot end with '-'", 4),
    ("sum(a -b)", "Expected 'where' or ')' at column 7: do arithmetic outside the function, e.g. sum(a) - sum(b)", 6),
    ("sum(a, b)", "Expected 'where' or ')' at column 6", 5),
    ("sum(a where stage = live or stage = beta)", "Expected 'and' or ')' at column 26", 25),
    ("sum(a where)", "Expected a field at column 12: use one of: evolution, service, stage, users", 11),
    ("sum(a where stage live)", "Expected '=', '!=', 'in' or 'not in' after 'stage' at column 19", 18),
    ("sum(a where stage not (live))", "Expected 'in' after 'not' at column 23", 22),
    ("sum(a where stage in live)", "Expected '(' after 'in' at column 22, e.g. stage in (a, b)", 21),
    ("sum(a where stage in (live beta))", "Expected ',' or ')' at column 28", 27),
    ("sum(a where stage = )", 'Expected a value at column 21: a word such as live, or a "quoted value"', 20),
    ('sum(a where service = "pay)', "Unclosed quote at column 23: end the value with '\"'", 22),
    ('sum(a where service = "")', "Empty value at column 23", 22),
    ("1 2", "Unexpected '2' at column 3: expected an operator (+, -, *, /) or the end", 2),
    ("sum(a) sum(b)", "Unexpected 'sum' at column 8: expected an operator (+, -, *, /) or the end", 7),
    ("(1))", "Unexpected ')' at column 4: there is no '(' for it to close", 3),
    ("1 + * 2", "Unexpected '*' at column 5: expected a number, a function such as sum(...) or '('", 4),
    ("1 +", "The expression ends too soon at column 4: expected a number, a function such as sum(...) or '('", 3),
    ("2sum(a)", "Unexpected 'sum' at column 2: put an operator or a space after the number 2", 1),
    ("1.", "Expected a digit after '.' at column 3", 2),
    (".5", "Write a digit before the '.' at column 1, e.g. 0.5", 0),
    ("   ", "Write an expression, e.g. sum(cost) / sum(transactions)", 0),
])
def test_each_error_says_what_is_wrong_and_where(source, message, position):
    with pytest.raises(ExpressionError) as caught:
        p(source)
    assert (str(caught.value), caught.value.position) == (message, position)


def test_limits_are_errors_not_crashes():
    assert p("(" * 40 + "1" + ")" * 40).evaluate(lambda c: []).value == 1
    with pytest.raises(ExpressionError, match="Too deeply nested at column 41: at most 40 levels") as caught:
        p("(" * 41 + "1" + ")" * 41)
    assert caught.value.position == 40
    with pytest.raises(ExpressionError, match="Too deeply nested") as caught:
        p("-" * 500 + "1")
    assert caught.value.position == 40
    with pytest.raises(ExpressionError, match="Too deeply nested"):
        p("(" * 1000)
    assert len(p(" + ".join(["sum(a)"] * 50)).calls()) == 50
    with pytest.raises(ExpressionError, match="Too many functions at column 351: at most 50 in one expression"):
        p("+".join(["sum(a)"] * 51))
    long_sum = "+".join(["1"] * 1000)  # a long flat chain stays shallow: no recursion limit
    assert p(long_sum).evaluate(lambda c: []).value == 1000
    with pytest.raises(ExpressionError) as caught:
        p("1" * 2001)
    assert (str(caught.value), caught.value.position) == ("The expression is 2,001 characters long: the limit is 2,000", 2000)


# --- evaluation ---------------------------------------------------------------------

DATA = {"cost": [Decimal("100.10"), Decimal("50"), Decimal("30.5")], "transactions": [Decimal(0)], "satisfaction": []}


def ev(source: str):
    return p(source).evaluate(lambda call: DATA[call.metric])


@pytest.mark.parametrize("source, value", [
    ("sum(cost)", Decimal("180.60")), ("avg(cost)", Decimal("60.2")), ("min(cost)", Decimal("30.5")),
    ("max(cost)", Decimal("100.10")), ("median(cost)", Decimal("50")), ("count(cost)", 3),
    ("count(satisfaction)", 0), ("sum(satisfaction)", 0), ("100 * sum(cost) / count(cost)", Decimal("6020")),
    ("median(cost) - -min(cost) * 2", Decimal("111")), ("1 / 3", Decimal("0.3333333333333333333333333333")),
])
def test_aggregates_and_arithmetic_in_decimal(source, value):
    result = ev(source)
    assert isinstance(result.value, Decimal) and result.value == value and result.reason == ""


def test_median_of_an_even_number_of_values_is_the_mean_of_the_middle_two():
    assert p("median(x)").evaluate(lambda c: [Decimal(9), Decimal(1), Decimal(4), Decimal(2)]).value == 3


@pytest.mark.parametrize("source, reason", [
    ("sum(cost) / sum(transactions)", "division by zero: sum(transactions) is 0"),
    ("sum(cost) / (count(satisfaction) * 2)", "division by zero: count(satisfaction) * 2 is 0"),
    ("avg(satisfaction where stage in (beta, live))", "no service reported satisfaction where stage in (beta, live)"),
    ("1 + 2 * -max(satisfaction)", "no service reported satisfaction"),
    ("min(satisfaction) / sum(transactions)", "no service reported satisfaction"),  # the first missing value wins
    ("median(satisfaction)", "no service reported satisfaction"),
])
def test_missing_figures_give_none_with_a_reason_that_propagates(source, reason):
    assert ev(source) == Result(None, reason)


def test_evaluation_uses_its_own_precision_and_refuses_floats():
    import decimal
    with decimal.localcontext(decimal.Context(prec=3)):
        assert p("2 / 3").evaluate(lambda c: []).value == Decimal("0.6666666666666666666666666667")
    with pytest.raises(TypeError, match="float"):
        p("sum(cost)").evaluate(lambda c: [0.1])
    assert p("sum(x)").evaluate(lambda c: [Decimal("NaN")]).value is None
    huge = p("9" * 998 + " * " + "9" * 998).evaluate(lambda c: [])
    assert huge.value is not None and huge.value > Decimal("1e1995")
    assert p("sum(x) * sum(x)").evaluate(lambda c: [Decimal("9e999999")]) == Result(None, "the figures are too large to compute with")


def test_matches_filters_single_and_several_valued_attributes():
    fields_any = {**FIELDS, "tag": None}
    conds = parse("sum(a where stage in (beta, live) and users != internal and tag = payments)",
                  fields=fields_any).calls()[0].conditions
    assert matches(conds, {"stage": "live", "users": "external", "tag": {"payments", "identity"}})
    assert not matches(conds, {"stage": "alpha", "users": "external", "tag": {"payments"}})
    assert not matches(conds, {"stage": "beta", "users": "internal", "tag": {"payments"}})
    assert not matches(conds, {"stage": "beta", "users": "external", "tag": {"identity"}})
    assert not matches(conds, {"stage": "beta", "users": "external"})  # no tags: does not have "payments"
    assert matches((Condition("tag", "!=", ("payments",)),), {})
    assert matches((Condition("tag", "not in", ("a", "b")),), {"tag": {"c"}})
    assert not matches((Condition("tag", "not in", ("a", "b")),), {"tag": {"c", "B"}})
    assert matches((), {})


# --- properties ------------------------------------------------------------------------

_values = {"stage": ["beta", "live"], "users": ["external"], "service": ["pay", 'a "quoted" \\ name', "Tax Office"]}
conditions = st.sampled_from(sorted(_values)).flatmap(lambda field: st.one_of(
    st.builds(lambda op, v: Condition(field, op, (v,)), st.sampled_from(["=", "!="]), st.sampled_from(_values[field])),
    st.builds(lambda op, vs: Condition(field, op, tuple(vs)), st.sampled_from(["in", "not in"]),
              st.lists(st.sampled_from(_values[field]), min_size=1, max_size=3)),
))
calls = st.builds(Call, st.sampled_from(FUNCTIONS), st.from_regex(r"[a-z0-9][a-z0-9_]*(-[a-z0-9_]+)?", fullmatch=True),
                  st.lists(conditions, max_size=2).map(tuple))
numbers = st.decimals(min_value=0, max_value=10**6, allow_nan=False, allow_infinity=False, places=2).map(lambda d: Number(abs(d)))


def _chains(children):
    def chain(level_ops):
        return st.builds(lambda first, rest: Operation(first, tuple(rest)), children,
                         st.lists(st.tuples(st.sampled_from(level_ops), children), min_size=1, max_size=3))
    return st.one_of(st.builds(Negate, children), chain(["+", "-"]), chain(["*", "/"]))


trees = st.recursive(st.one_of(numbers, calls), _chains, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(trees)
def test_printing_and_reparsing_gives_the_same_tree(tree):
    text = str(Expression(tree))
    assume(len(text) <= 2000)
    again = p(text)
    assert again.root == tree and again.text == text


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet=list("sumavgcountwhere stage=!(),in\"\\-+*/.0123456789live"), max_size=60)))
def test_arbitrary_text_raises_only_expression_errors(source):
    try:
        expression = p(source)
    except ExpressionError as error:
        assert 0 <= error.position <= len(source) and str(error)
    else:
        assert p(expression.text) == expression


def _round28(q: Fraction) -> Fraction:
    """Round to 28 significant digits, half to even, as decimal's context does."""
    if q == 0:
        return q
    e = 0
    while Fraction(10) ** e > abs(q):
        e -= 1
    while Fraction(10) ** (e + 1) <= abs(q):
        e += 1
    scale = Fraction(10) ** (e - 27)
    return round(q / scale) * scale


def _reference(node, values):
    """Exact arithmetic on Fractions, rounded after each operation; None for a missing value."""
    if isinstance(node, Number):
        return Fraction(node.value)
    if isinstance(node, Negate):
        inner = _reference(node.operand, values)
        return None if inner is None else _round28(-inner)
    if isinstance(node, Call):
        vs = [Fraction(v) for v in values(node)]
        total = Fraction(0)
        for v in vs:
            total = _round28(total + v)
        if node.func in ("count", "sum"):
            return Fraction(len(vs)) if node.func == "count" else total
        if not vs:
            return None
        ordered = sorted(vs)
        return {"avg": lambda: _round28(total / len(vs)), "min": lambda: ordered[0], "max": lambda: ordered[-1],
                "median": lambda: ordered[len(vs) // 2] if len(vs) % 2 else
                _round28(_round28(ordered[len(vs) // 2 - 1] + ordered[len(vs) // 2]) / 2)}[node.func]()
    acc = _reference(node.first, values)
    for op, operand in node.rest:
        right = _reference(operand, values)
        if acc is None or right is None or (op == "/" and right == 0):
            return None
        acc = _round28({"+": acc + right, "-": acc - right, "*": acc * right, "/": acc / right if right else 0}[op])
    return acc


@settings(max_examples=300, deadline=None)
@given(trees, st.lists(st.decimals(min_value=-1000, max_value=1000, places=3), max_size=4))
def test_evaluation_matches_exact_fractions_rounded_the_same_way(tree, data):
    def values(call):
        return data if call.metric < "m" else data[:1]
    result = Expression(tree).evaluate(values)
    expected = _reference(tree, values)
    if expected is None:
        assert result.value is None and result.reason
    else:
        assert result.value is not None and Fraction(result.value) == expected
