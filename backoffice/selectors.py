"""What the back office reads: finding a person, their whole record, the request queue."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Case as Conditional
from django.db.models import IntegerField, QuerySet, Value, When

from audit.models import AuditEntry
from backoffice.models import IdentityChange
from casework.models import Case, CaseStatus
from certificates.models import Certificate
from declarations.models import DeclarationLine
from declarations.periods import Period, period_range
from declarations.status import expected_period, statuses_for_employers
from registry.models import Insured
from registry.validators import CIN_RE, CNSS_NUMBER_RE, normalize_cin, normalize_cnss_number

# Months of declaration lines on a person's page (E-23 ... E).
DECLARATION_MONTHS = 24
AUDIT_ROWS = 50
VIEW_ROWS = 10
NAME_PREFIX_MIN = 2


@dataclass(frozen=True)
class Search:
    query: str
    # "cnss", "cin", "name", or "" when the query is too short to search.
    by: str
    results: QuerySet | None
    # The normalised value searched for (CNSS number, CIN or name prefix).
    term: str = ""


def insured_search(query: str) -> Search:
    """CNSS number (exact), CIN (current or earlier, exact), or last-name prefix, case-insensitive."""
    query = " ".join((query or "").split())
    number = normalize_cnss_number(query)
    cin = normalize_cin(query)
    people = Insured.objects.all()
    if CNSS_NUMBER_RE.match(number):
        return Search(query, "cnss", people.filter(cnss_number=number), number)
    if CIN_RE.match(cin) and len(cin) <= 8:
        return Search(query, "cin", people.by_cin(cin).order_by("last_name", "first_name", "pk"), cin)
    if len(query) >= NAME_PREFIX_MIN and not re.search(r"\d", query):
        return Search(
            query,
            "name",
            people.filter(last_name__istartswith=query).order_by("last_name", "first_name", "pk"),
            query.upper(),
        )
    return Search(query, "", None)


def _money(centimes: int) -> Decimal:
    return Decimal(centimes) / 100


@dataclass(frozen=True)
class InsuredFile:
    insured: Insured
    previous_cins: list
    employments: list[dict]
    months: list[dict]
    first_period: Period
    last_period: Period
    certificates: list[dict]
    cases: list
    identity_changes: list
    audit: list
    views: list


def insured_file(insured: Insured, *, today: date) -> InsuredFile:
    """Everything an agent needs about one person, in a fixed number of queries."""
    employments = list(insured.employments.select_related("employer").order_by("end_date", "-start_period"))
    statuses = statuses_for_employers({e.employer for e in employments}, today=today)
    rows = [{"employment": e, "employer": e.employer, "status": statuses[e.employer_id]} for e in employments]

    last = expected_period(today)
    first = last - (DECLARATION_MONTHS - 1)
    lines = (
        DeclarationLine.objects.filter(insured=insured, is_current=True, period__gte=str(first), period__lte=str(last))
        .select_related("employer")
        .order_by("-period", "employer__name")
    )
    by_period: dict[str, list[dict]] = {}
    for line in lines:
        by_period.setdefault(line.period, []).append(
            {"line": line, "real_salary": _money(line.real_salary), "capped_salary": _money(line.capped_salary)}
        )
    months = [
        {"period": p, "month": p.first_day, "lines": by_period.get(str(p), [])}
        for p in reversed(period_range(first, last))
    ]

    certificates = [
        {"certificate": c, "state": c.state_on(today)}
        for c in Certificate.objects.for_insured(insured).select_related("employer", "issued_by", "revoked_by")
    ]
    trail = AuditEntry.objects.filter(insured=insured).select_related("actor")
    return InsuredFile(
        insured=insured,
        previous_cins=list(insured.previous_cins.order_by("-replaced_on", "cin")),
        employments=rows,
        months=months,
        first_period=first,
        last_period=last,
        certificates=certificates,
        cases=list(insured.cases.select_related("employer").order_by("-created_at")),
        identity_changes=list(
            IdentityChange.objects.filter(insured=insured).select_related("proposed_by", "decided_by")
        ),
        audit=list(trail.exclude(action="backoffice.insured.viewed")[:AUDIT_ROWS]),
        views=list(trail.filter(action="backoffice.insured.viewed")[:VIEW_ROWS]),
    )


OPEN_STATUSES = [CaseStatus.SUBMITTED, CaseStatus.IN_PROGRESS]


def case_queue(*, status: str = "", kind: str = "") -> QuerySet:
    """Requests, open ones first, oldest first within each group."""
    cases = Case.objects.select_related("insured", "employer", "handled_by")
    if status == "open":
        cases = cases.filter(status__in=OPEN_STATUSES)
    elif status:
        cases = cases.filter(status=status)
    if kind:
        cases = cases.filter(kind=kind)
    is_closed = Conditional(
        When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return cases.annotate(is_closed=is_closed).order_by("is_closed", "created_at", "pk")
