"""What the treaty periods certificate's template needs beyond its facts: the Moroccan years in columns."""

# The foreign periods and the totals share the page: shorter columns than the statement of declared days.
YEARS_PER_COLUMN = 3


def pdf_context(facts: dict) -> dict:
    from certificates.rendering import year_columns

    return {"year_columns": year_columns(facts["moroccan"]["years"], YEARS_PER_COLUMN)}
