"""What the statement of declared days' template needs beyond its facts: the years in columns."""

from django.conf import settings


def pdf_context(facts: dict) -> dict:
    from certificates.rendering import year_columns

    return {
        "year_columns": year_columns(facts["years"]),
        "quarter_max": facts.get("quarter_max", settings.DAMANE_MAX_DAYS_PER_QUARTER),
    }
