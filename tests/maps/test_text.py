"""Reading map text: every statement and every habit of real maps, and the warnings for
what is not understood."""

from __future__ import annotations

from pathlib import Path

import pytest

from osom.maps.text import (
    Accelerator, Annotation, Box, Evolve, Flow, Link, Method, Note, Pipeline, PipelineComponent, UrlDef,
    WardleyMap, clean_name, parse,
)

EXAMPLES = Path(__file__).parent / "examples"


def example(name: str) -> str:
    return (EXAMPLES / name).read_text(encoding="utf-8")


def warnings_on(m: WardleyMap, line: int) -> list[str]:
    return [w.message for w in m.warnings if w.line == line]


@pytest.fixture(scope="module")
def payroll() -> WardleyMap:
    return parse(example("payroll.owm"))


@pytest.fixture(scope="module")
def library() -> WardleyMap:
    return parse(example("library.owm"))


@pytest.fixture(scope="module")
def council() -> WardleyMap:
    return parse(example("council.owm"))


# --- the statements, from the payroll map ---------------------------------------------------

def test_the_payroll_map_is_read_without_a_warning(payroll):
    assert payroll.warnings == []


def test_it_reads_the_settings(payroll):
    assert payroll.title == "Payroll service"
    assert payroll.style == "wardley"
    assert payroll.size == (1100, 760)
    assert payroll.evolution_labels == ("Uncharted", "Emerging", "Good", "Best")
    assert payroll.legend == (0.16, 0.62)


def test_it_reads_anchors_and_components_with_positions_first_visibility_then_evolution(payroll):
    employees = payroll.component("Employees")
    assert (employees.kind, employees.visibility, employees.evolution, employees.line) == ("anchor", 0.96, 0.55, 7)
    assert payroll.component("Finance team").label == (-40, -12)
    portal = payroll.component("Payslip portal")
    assert (portal.kind, portal.visibility, portal.evolution, portal.label) == ("component", 0.86, 0.48, (12, -8))
    assert portal.inertia is False and portal.decorators == set()


def test_label_inertia_and_decorators_may_come_in_any_order(payroll):
    ledger = payroll.component("Ledger")
    assert ledger.label == (14, -6) and ledger.inertia is True and ledger.decorators == {"market", "buy"}
    tax = payroll.component("Tax rules")
    assert tax.inertia is True and tax.label == (-60, 4) and tax.decorators == {"outsource"}
    assert payroll.component("Pay run").decorators == {"build"}
    assert payroll.component("Bank transfer").decorators == {"ecosystem"}
    assert payroll.component("Identity check").decorators == {"buy", "market"}


def test_an_evolve_at_the_end_of_a_component_line_is_a_separate_evolve(payroll):
    inline = [e for e in payroll.evolves if e.line == 12]
    assert inline == [Evolve("Ledger", 0.82)]
    assert inline[0].inline is True


def test_links_with_and_without_spaces_and_labels(payroll):
    assert Link("Employees", "Payslip portal") in payroll.links
    assert Link("Finance team", "Pay run") in payroll.links
    assert Link("Pay run", "Tax rules", "statutory") in payroll.links
    assert Link("Ledger", "Bank transfer", "limited by cut-off times") in payroll.links
    assert [link.line for link in payroll.links] == [17, 18, 19, 20, 21, 22, 23]


def test_flows_in_each_direction_and_with_a_value(payroll):
    assert payroll.flows == [
        Flow("Pay run", "Ledger", ">"),
        Flow("Ledger", "Bank transfer", "<"),
        Flow("Pay run", "Tax rules", "<>"),
        Flow("Employees", "Payslip portal", ">", "£2 per payslip"),
    ]


def test_evolve_renames_and_carries_a_label_and_decorators(payroll):
    assert Evolve("Pay run", 0.62, new_name="Payroll as a service", label=(8, 14), decorators={"buy"}) in payroll.evolves
    assert Evolve("Tax rules", 0.45) in payroll.evolves


def test_a_pipeline_block_and_a_short_pipeline(payroll):
    block, short = payroll.pipelines
    assert block.parent == "Ledger" and block.span is None and block.block is True
    assert block.children == [PipelineComponent("Spreadsheet ledger", 0.30), PipelineComponent("Hosted ledger", 0.58, (-20, 18)),
                              PipelineComponent("Ledger platform", 0.88)]
    assert [c.line for c in block.children] == [35, 36, 37]
    assert short == Pipeline("Identity check", span=(0.50, 0.80))


def test_notes_annotations_and_the_legend(payroll):
    assert payroll.notes == [Note("Pay run frozen in the last week of the tax year", 0.20, 0.10)]
    assert payroll.annotations == [
        Annotation(1, [(0.74, 0.38)], "Moving to a service removes the month-end crunch"),
        Annotation(2, [(0.62, 0.71), (0.31, 0.93)], "Bank cut-off drives the ledger's timing"),
    ]


def test_submaps_and_url_definitions(payroll):
    pension = payroll.component("Pension contributions")
    assert pension.kind == "submap" and pension.url == "pensionMap"
    assert payroll.urls == [UrlDef("pensionMap", "https://maps.example.org/pension")]
    assert payroll.url_for(pension.url) == "https://maps.example.org/pension"


def test_boxes_and_accelerators(payroll):
    assert payroll.boxes == [Box("pioneers", (0.98, 0.02), (0.70, 0.30)), Box("settlers", (0.70, 0.30), (0.40, 0.62)),
                             Box("townplanners", (0.40, 0.62), (0.05, 0.98))]
    assert payroll.accelerators == [Accelerator("Open banking", 0.25, 0.70),
                                    Accelerator("Legacy contracts", 0.18, 0.50, kind="deaccelerator")]


# --- what real maps do, from the library map ---------------------------------------------

def test_comments_are_skipped_wherever_they_are(library):
    assert library.title == "Library lending"
    assert library.component("Notes").line == 8  # the // comment after it is not part of the name
    assert all("/*" not in c.name and "//" not in c.name for c in library.components)


def test_positions_a_little_outside_0_1_are_accepted_silently(library):
    assert library.component("Borrowers").visibility == 1.01
    assert library.component("Stock ledger").evolution == -0.01
    assert not warnings_on(library, 6) and not warnings_on(library, 12)


def test_names_that_contain_keywords_digits_and_accents(library):
    assert Link("Catalogue search", "Notes") in library.links
    assert Link("Notes", "Inertia tracker") in library.links
    assert library.component("Inertia tracker").inertia is True
    assert library.component("Web 2.0").evolution == 0.62
    assert library.component("Réservations en ligne").visibility == 0.70
    assert library.evolves == [Evolve("Web 2.0", 0.85)]


def test_a_link_may_come_before_the_component_is_declared(library):
    assert Link("Web 2.0", "Hosting") in library.links  # Hosting is declared on line 29
    assert not warnings_on(library, 20)


def test_a_link_to_a_component_never_declared_is_kept_and_warned(library):
    assert Link("Réservations en ligne", "Book supplier") in library.links
    (message,) = warnings_on(library, 18)
    assert "Book supplier" in message and "never declared" in message


def test_a_component_declared_twice_is_warned_and_both_are_kept(library):
    twice = [c for c in library.components if c.name == "Web 2.0"]
    assert [(c.line, c.evolution) for c in twice] == [(10, 0.62), (30, 0.66)]
    (message,) = warnings_on(library, 30)
    assert "declared again" in message and "line 10" in message


def test_older_maps_lines_for_markets_ecosystems_and_methods(library):
    suppliers = library.component("Book suppliers")
    assert (suppliers.kind, suppliers.visibility, suppliers.evolution) == ("market", 0.30, 0.75)
    assert library.component("Reading groups").kind == "ecosystem"
    assert library.methods == [Method("buy", "Hosting"), Method("build", "Catalogue search"),
                               Method("outsource", "Stock ledger"), Method("market", "Web 2.0")]


def test_buy_applies_to_a_component_declared_elsewhere_even_later(library):
    assert library.component("Hosting").decorators == {"buy"}  # `buy Hosting` is on line 24, Hosting on 29
    assert library.component("Catalogue search").decorators == {"build"}
    assert library.component("Stock ledger").decorators == {"outsource"}
    first, second = [c for c in library.components if c.name == "Web 2.0"]
    assert first.decorators == {"market"} and second.decorators == set()


def test_a_link_whose_first_name_starts_with_a_keyword_is_a_link(library):
    assert Link("Build pipeline", "Hosting") in library.links
    assert library.pipelines == [Pipeline("Catalogue search", span=(0.40, 0.70))]


@pytest.mark.parametrize("line, expected", [
    ("note taking->Archive", Link("note taking", "Archive")),
    ("pipeline stage->Archive", Link("pipeline stage", "Archive")),
    ("buy button->Checkout", Link("buy button", "Checkout")),
    ("style guide+>Archive", Flow("style guide", "Archive", ">")),
    ("url shortener->Archive; for links", Link("url shortener", "Archive", "for links")),
    ("C++->Compiler", Link("C++", "Compiler")),
    ("C++ build+'ten a day'<>Runner", Flow("C++ build", "Runner", "<>", "ten a day")),
])
def test_lower_case_names_that_begin_with_a_keyword_still_link(line, expected):
    m = parse(line)
    assert [*m.links, *m.flows] == [expected]
    assert all("never declared" in w.message for w in m.warnings)


def test_addresses_keep_their_double_slash_and_comments_may_end_a_line():
    m = parse("url docs [https://example.org/a//b]  // where the docs live\n"
              "component A [0.5, 0.5] /* inline */ inertia\n"
              "A->B // a link\n")
    assert m.urls == [UrlDef("docs", "https://example.org/a//b")]
    assert m.component("A").inertia is True
    assert m.links == [Link("A", "B")]


def test_a_byte_order_mark_and_windows_line_ends_are_read():
    text = "\ufefftitle Windows map\r\ncomponent A [0.5, 0.5]\r\n"
    m = parse(text)
    assert m.title == "Windows map" and m.component("A") is not None and m.warnings == []
    assert m.to_text() == text


def test_evolution_labels_may_be_empty():
    m = parse("evolution ->Emerging->->Best")
    assert m.evolution_labels == ("", "Emerging", "", "Best")


def test_a_pipeline_opened_on_its_own_line_after_a_comment():
    m = parse("component Ledger [0.6, 0.7]\npipeline Ledger\n// the options\n{\n  component SaaS [0.8]\n}\n")
    assert m.pipelines[0].children == [PipelineComponent("SaaS", 0.8)]
    assert m.warnings == []


# --- warnings, from the council map ----------------------------------------------------------

def test_an_unknown_extension_keeps_the_component_and_is_warned(council):
    billing = council.component("Billing")
    assert (billing.visibility, billing.evolution) == (0.8, 0.5)
    (message,) = warnings_on(council, 2)
    assert "color(#d04020)" in message


@pytest.mark.parametrize("line, words", [
    (3, ["Foo", "two numbers", "[0.5]"]),
    (4, ["Bar", "two numbers", "[x, y]"]),
    (5, ["evolve needs a name"]),
    (10, ["pipeline block", "Billing", "no closing }"]),
    (11, ["}", "no pipeline block"]),
    (12, ["annotation 4", "no points"]),
    (13, ["size", "width and a height"]),
    (14, ["not understood", "team Revenues"]),
    (15, ["arrow", "Billing-->Payments"]),
    (16, ["lower case", "component"]),
    (17, ["/*", "never closed"]),
])
def test_each_line_not_understood_is_warned_with_its_line_number(council, line, words):
    messages = warnings_on(council, line)
    assert len(messages) == 1, council.warnings
    for word in words:
        assert word in messages[0]


def test_what_the_council_map_says_despite_its_mistakes(council):
    assert [c.name for c in council.components] == ["Billing", "Payments"]
    assert council.component("Payments").line == 10  # read after the unclosed block was closed
    assert [c.name for c in council.pipelines[0].children] == ["Paper bills", "Online bills"]
    assert council.component("Hidden") is None  # inside the unclosed comment
    assert council.boxes == [] and council.links == []


def test_a_pipeline_block_left_open_at_the_end_is_warned_on_its_brace():
    m = parse("component A [0.5, 0.5]\npipeline A\n{\n  component B [0.3]\n")
    assert m.pipelines[0].children == [PipelineComponent("B", 0.3)]
    assert ["never closed" in w.message for w in m.warnings] == [True]
    assert m.warnings[0].line == 3


@pytest.mark.parametrize("text, fragment", [
    ("component [0.5, 0.5]", "no name"),
    ("component A", "no position"),
    ("component A [0.5, 0.5", "not closed"),
    ("component A [0.5, 0.5, 0.5]", "two numbers"),
    ("component A [1e999, 0.5]", "two numbers"),
    ("component A [0.5, 0.5] (team)", "(team)"),
    ("component A [0.5, 0.5] (buy, rent)", "(rent)"),
    ("component A [0.5, 0.5] label [a, b]", "label [a, b]"),
    ("component A [7, 0.5]", "far outside"),
    ("pipeline A [0.2]", "two evolution numbers"),
    ("pipeline A\n{\n  component B [x]\n}", "one number"),
    ("pipeline A {\n{\n}", "second {"),
    ("note [0.1, 0.2]", "no text"),
    ("note Budget frozen", "no position"),
    ("annotation [0.1, 0.2] text", "number first"),
    ("annotation 1 [[0.1, 0.2], [x]] text", "no points"),
    ("annotations somewhere", "annotations"),
    ("pioneers [0.1, 0.2]", "two corners"),
    ("accelerator Open [0.1]", "two numbers"),
    ("url docs", "url NAME"),
    ("evolution a->b", "exactly four"),
    ("title", "no text"),
    ("style two words", "one word"),
    ("size [0, 100]", "width and a height"),
    ("buy", "name of a component"),
    ("buy Ledger [0.1, 0.2]", "name of a component"),
    ("evolve Ledger", "needs a name"),
    ("evolve Ledger->", "needs a name"),
    ("A->", "each side"),
    ("+>B", "each side"),
    ("A->>B", "arrow"),
    ("A<->B", "arrow"),
    ("A->B [0.1]", "cannot contain"),
    ("{", "no pipeline block"),
    ("just some words", "not understood"),
    ("title One\ntitle Two", "second title"),
    ("component A [0.5, 0.5] url(nowhere)", "url(nowhere)"),
    ("buy Ghost", "no component"),
    ("evolve Ghost 0.5", "no component"),
    ("pipeline Ghost [0.1, 0.2]", "no component"),
])
def test_malformed_lines_are_warned_never_raised(text, fragment):
    m = parse(text)
    assert any(fragment in w.message for w in m.warnings), m.warnings
    assert all(1 <= w.line <= text.count("\n") + 1 for w in m.warnings)
    assert m.to_text() == text


def test_the_later_title_is_used():
    assert parse("title One\ntitle Two").title == "Two"


def test_anything_that_is_not_text_is_read_as_text():
    assert parse(None).to_text() == ""
    assert parse(b"title Bytes \xff").title == "Bytes \ufffd"
    assert parse(42).warnings[0].line == 1


def test_very_long_odd_lines_are_read_quickly():
    odd = [
        "evolve a" + " " * 50_000 + "x",
        "component " + "[" * 50_000,
        "note " + "[ " * 25_000,
        "A" + "+'" * 25_000,
        "annotation 1 [" + "[0.1, 0.2]," * 5_000,
        "x" + " ->" * 20_000,
        "component A [0.5, 0.5] " + "(" * 50_000,
        "component A [0.5, 0.5] " + "label [" * 10_000,
        "evolve " + "1 " * 25_000,
    ]
    for line in odd:
        assert parse(line).to_text() == line


def test_clean_name_makes_any_name_safe_to_write():
    assert clean_name("Pay -> run [beta]; v2 +> now") == "Pay → run (beta), v2 ＋> now"
    assert clean_name("  two\n lines  ") == "two lines"
    assert clean_name("buy now") == "Buy now"
    assert clean_name("a // b /* c */") == "a ∕/ b ∕* c *∕"
    assert clean_name("pre-") == "pre‐"
    assert clean_name("{x}") == "(x)"
