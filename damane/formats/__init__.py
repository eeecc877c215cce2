"""Date and number formats, one module per language (``FORMAT_MODULE_PATH``).

Every language writes a day as dd/mm/yyyy and a month as its name and year:
the fund's documents and the Moroccan administration do. Arabic uses the
Moroccan month names (``damane/formats/months.py``) and Western digits, with no
directional marks inside a date: "29/11/2026" is one left-to-right run in an
Arabic sentence, where Django's "d‏/m‏/Y" reads 2026/11/29.
"""

from datetime import date

from django.utils.formats import date_format


def month_label(value) -> str:
    """A month in words in the active language: "août 2026", "غشت 2026", "August 2026".

    ``value`` is a date or anything with ``first_day`` (``declarations.periods.Period``).
    """
    day = value if isinstance(value, date) else value.first_day
    return date_format(day, "YEAR_MONTH_FORMAT")


def short_date(value) -> str:
    """dd/mm/yyyy in every language."""
    return date_format(value, "SHORT_DATE_FORMAT")
