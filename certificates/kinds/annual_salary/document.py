"""What the annual salary certificate's template needs beyond its facts: every month of the window, and totals."""

from django.conf import settings

from declarations.periods import Period, period_range


def pdf_context(facts: dict) -> dict:
    months = _salary_months(facts)
    # Lines printed, a month without declaration counting as one: the template tightens past 12.
    row_count = sum(max(1, len(month["rows"])) for month in months)
    context = {
        "salary_months": months,
        "salary_row_count": row_count,
        "ceiling": facts.get("ceiling", settings.DAMANE_SALARY_CEILING_CENTIMES),
    }
    if row_count > SALARY_DETAIL_MAX_ROWS:
        context.update(_salary_summary(facts, months))
    return context


def _salary_months(facts: dict) -> list[dict]:
    """Every period of the window with its lines: a period without any shows as not declared."""
    first, last = Period.parse(facts["from_period"]), Period.parse(facts["to_period"])
    by_period: dict[str, list] = {}
    for row in facts["rows"]:
        by_period.setdefault(row["period"], []).append(row)
    return [{"period": str(p), "rows": by_period.get(str(p), [])} for p in period_range(first, last)]


# Past this many printed lines (two employers every month) the annual salary
# certificate prints per-month totals and one line per employer instead of every
# declared line, so that it stays on one page (docs/decisions.md, "Long tables").
SALARY_DETAIL_MAX_ROWS = 24


def _salary_summary(facts: dict, months: list[dict]) -> dict:
    """Per-month totals (with the number of employers) and per-employer totals over the window."""
    month_totals = [
        {
            "period": month["period"],
            "employers": len({row["affiliation_number"] for row in month["rows"]}),
            "days": sum(row["days"] for row in month["rows"]),
            "real_salary": sum(row["real_salary"] for row in month["rows"]),
            "capped_salary": sum(row["capped_salary"] for row in month["rows"]),
        }
        for month in months
    ]
    employers: dict[str, dict] = {}
    for row in facts["rows"]:
        employer = employers.setdefault(
            row["affiliation_number"],
            {
                "employer": row["employer"],
                "affiliation_number": row["affiliation_number"],
                "periods": set(),
                "days": 0,
                "real_salary": 0,
                "capped_salary": 0,
            },
        )
        employer["periods"].add(row["period"])
        for key in ("days", "real_salary", "capped_salary"):
            employer[key] += row[key]
    by_employer = [
        {**employer, "months": len(employer.pop("periods"))}
        for employer in sorted(employers.values(), key=lambda e: (-e["real_salary"], e["affiliation_number"]))
    ]
    return {"salary_month_totals": month_totals, "salary_employers": by_employer}
