"""One e-BDS rule set: every rule of ``declarations.ebds_rules`` refuses the same
file with the same message on the parser and on the PostgreSQL fast path.

The test is parametrised over the registry: each rule, on each record type it
applies to, must have a bad-input example in ``BAD_INPUTS`` (a new rule without
one fails here). The fast path is driven to its own answer (``NotFast.issues``,
before the parser it falls back to runs), then ``import_ebds`` is asked too.
"""

import pytest
from django.conf import settings
from django.db import connection, transaction

from declarations import bulk, services
from declarations.ebds import EbdsError, parse_ebds
from declarations.ebds_rules import RULES, LineRule, check_registry
from declarations.models import Declaration, DeclarationLine, EbdsFile
from declarations.services import ImportRejected, import_ebds
from tests.declarations.ebds_testkit import make_declaration, make_line, replace_field, write

pytestmark = pytest.mark.django_db

# The base file, period 202502 (line numbers below):
#   1 B00, 2 B01, 3 B02 100000001, 4 B02 100000002, 5 B03, 6 B04 100000003, 7 B05, 8 B06
KNOWN = ("100000001", "100000002")
TOTALS_FIELD = {"B03": (5, 91, 97), "B05": (7, 37, 43), "B06": (8, 37, 43)}  # N_T_Jours_Declares
LINE_OF = {"B02": 3, "B03": 5, "B04": 6, "B05": 7, "B06": 8}


def base(b02=None, b04=None) -> str:
    b02 = b02 if b02 is not None else [make_line(KNOWN[0]), make_line(KNOWN[1], name="BENNANI SARA", days=20)]
    b04 = b04 if b04 is not None else [make_line("100000003", name="TAZI OMAR", is_new=True, cin="K123")]
    return write(make_declaration("202502", [*b02, *b04]))


def known(**kwargs):
    return [make_line(KNOWN[0], **kwargs), make_line(KNOWN[1], name="BENNANI SARA", days=20)]


def hire(**kwargs):
    values = {"cnss_number": "100000003", "name": "TAZI OMAR", "is_new": True, "cin": "K123"} | kwargs
    return [make_line(**values)]


def field_of(record_type: str, start: int, end: int, value: str):
    return lambda: replace_field(base(), LINE_OF[record_type], start, end, value)


# (rule code, record type) -> a file that breaks that rule there and nothing else.
BAD_INPUTS = {
    **{("affiliation-differs", t): field_of(t, 3, 10, "7654321") for t in ("B02", "B03", "B04", "B05", "B06")},
    **{("period-differs", t): field_of(t, 10, 16, "202503") for t in ("B02", "B03", "B04", "B05", "B06")},
    ("name-blank", "B02"): lambda: base(b02=known(name="")),
    ("name-blank", "B04"): lambda: base(b04=hire(name="")),
    ("situation-unknown", "B02"): field_of("B02", 135, 137, "XX"),
    ("cin-malformed", "B04"): lambda: base(b04=hire(cin="123")),
    ("days-over-maximum", "B02"): lambda: base(b02=known(days=27)),
    ("days-over-maximum", "B04"): lambda: base(b04=hire(days=31)),
    ("capped-salary", "B02"): lambda: base(b02=known(real_salary=700_000, capped_salary=700_000)),
    ("capped-salary", "B04"): lambda: base(b04=hire(capped_salary=1)),
    ("control-sum", "B02"): field_of("B02", 137, 156, "0000000000100000001"),
    ("control-sum", "B04"): field_of("B04", 117, 136, "0000000000100000001"),
    ("cnss-number-twice", "B02"): lambda: base(b02=[*known(), make_line(KNOWN[0], name="ALAMI YOUSSEF", days=3)]),
    ("cnss-number-twice", "B04"): lambda: base(b04=hire(cnss_number=KNOWN[1], cin="")),
    **{("total-differs", t): field_of(t, start, end, "000099") for t, (_, start, end) in TOTALS_FIELD.items()},
}
CASES = [(rule, record_type) for rule in RULES for record_type in sorted(rule.records)]


def parser_refusal(text: str) -> list:
    try:
        parse_ebds(text, ceiling=settings.DAMANE_SALARY_CEILING_CENTIMES, max_days=settings.DAMANE_MAX_DAYS_PER_MONTH)
    except EbdsError as error:
        return error.issues
    pytest.fail("the parser accepted the file")


def fast_refusal(text: str) -> list | None:
    """What the fast path itself finds wrong (``None``: it would store the file)."""
    with transaction.atomic(), connection.cursor() as cursor:
        try:
            bulk.stage_and_check(
                cursor,
                text,
                ceiling=settings.DAMANE_SALARY_CEILING_CENTIMES,
                max_days=settings.DAMANE_MAX_DAYS_PER_MONTH,
            )
        except bulk.NotFast as not_fast:
            issues = not_fast.issues
        else:
            issues = None
        transaction.set_rollback(True)
    return issues


def as_tuples(issues) -> list[tuple]:
    return sorted((issue.line, issue.field, str(issue.reason), issue.code) for issue in issues)


@pytest.fixture
def registered():
    """The employer and the two known employees (B04 of January)."""
    lines = [make_line(number, is_new=True, cin=f"J{number[-1]}") for number in KNOWN]
    import_ebds(text=write(make_declaration("202501", lines)), filename="DS_1234567_202501.txt")


def test_the_base_file_breaks_no_rule_and_takes_the_fast_path(registered, monkeypatch):
    text = base()
    assert fast_refusal(text) is None
    parse_ebds(text, ceiling=settings.DAMANE_SALARY_CEILING_CENTIMES, max_days=settings.DAMANE_MAX_DAYS_PER_MONTH)

    def forbidden(*args, **kwargs):
        raise AssertionError("the original store ran: the fast path gave up")

    monkeypatch.setattr(services, "_store", forbidden)
    result = import_ebds(text=text, filename="DS_1234567_202502.txt")
    assert result.counts["employees"] == 3


@pytest.mark.parametrize("rule,record_type", CASES, ids=[f"{rule.code}-{t}" for rule, t in CASES])
def test_every_rule_refuses_the_same_on_both_paths_with_the_same_message(registered, rule, record_type):
    example = BAD_INPUTS.get((rule.code, record_type))
    if example is None:
        pytest.fail(f"rule {rule.code!r} has no bad-input example on a {record_type} line in BAD_INPUTS")
    text = example()

    by_parser = parser_refusal(text)
    # The example breaks this rule, on a record of this type, and nothing else.
    assert {issue.code for issue in by_parser} == {rule.code}
    line = LINE_OF[record_type] if rule.code != "cnss-number-twice" else by_parser[0].line
    assert [issue.line for issue in by_parser] == [line]
    if isinstance(rule, LineRule):
        assert by_parser[0].field == rule.field_name(record_type)

    by_fast_path = fast_refusal(text)
    assert by_fast_path is not None, "the fast path would have stored a file the parser refuses"
    assert as_tuples(by_fast_path) == as_tuples(by_parser)

    before = (EbdsFile.objects.count(), Declaration.objects.count(), DeclarationLine.objects.count())
    with pytest.raises(ImportRejected) as caught:
        import_ebds(text=text, filename="DS_1234567_202502.txt")
    assert as_tuples(caught.value.issues) == as_tuples(by_parser)
    assert (EbdsFile.objects.count(), Declaration.objects.count(), DeclarationLine.objects.count()) == before


def test_every_example_names_a_rule_of_the_registry():
    assert set(BAD_INPUTS) <= {(rule.code, record_type) for rule, record_type in CASES}


def test_several_broken_rules_on_several_lines_are_all_found_by_both_paths(registered):
    text = base(
        b02=[
            make_line(KNOWN[0], days=27, capped_salary=1),
            make_line(KNOWN[1], name="", days=20),
            make_line(KNOWN[0], name="AGAIN", days=2),
        ],
        b04=hire(cin="12", days=30),
    )
    text = replace_field(text, 4, 135, 137, "ZZ")  # line 4 also has an unknown situation
    by_parser = parser_refusal(text)
    assert len(by_parser) == 7
    assert as_tuples(fast_refusal(text)) == as_tuples(by_parser)


def test_a_rule_of_b02_lines_without_sql_is_refused_at_import():
    days = next(rule for rule in RULES if rule.code == "days-over-maximum")
    lax = LineRule(code="lax", field="days", records=frozenset({"B02"}), message=days.message, check=days.check)
    with pytest.raises(AssertionError, match="no SQL predicate"):
        check_registry((*RULES, lax))
    with pytest.raises(AssertionError, match="repeat"):
        check_registry((*RULES, days))
