"""The audit trail as CSV, streamed row by row.

Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return as a formula (OWASP "CSV Injection"); anything an
outsider could have typed ends up in the trail (a reason, a name), so such a
cell is written with a leading apostrophe, which spreadsheets show as text.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

HEADER = [
    "at",
    "action",
    "actor",
    "object_type",
    "object_id",
    "insured_cnss_number",
    "reason",
    "ip_address",
    "before",
    "after",
]
FIELDS = [
    "at",
    "action",
    "actor_label",
    "object_type",
    "object_id",
    "insured__cnss_number",
    "reason",
    "ip_address",
    "before",
    "after",
]
CHUNK_SIZE = 2000


def safe_cell(value) -> str:
    """The text of one cell, defused when a spreadsheet would read it as a formula."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    elif hasattr(value, "isoformat"):
        text = value.isoformat()
    else:
        text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class _Line:
    """A write-only file for csv.writer that hands back what it was given."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable]) -> Iterator[str]:
    writer = csv.writer(_Line())
    # A byte-order mark, so that spreadsheet programs read the Arabic names as UTF-8.
    yield "\ufeff" + writer.writerow(HEADER)
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])


def export_rows(entries: QuerySet) -> Iterator[tuple]:
    """The entries' cells, read in chunks (a server-side cursor on PostgreSQL), never all at once."""
    return entries.values_list(*FIELDS).iterator(chunk_size=CHUNK_SIZE)
