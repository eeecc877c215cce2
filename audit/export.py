"""The audit trail as CSV, streamed row by row.

Identifiers are masked as on the pages (``damane.masking.mask``: the
last three characters): CINs, CNSS numbers and phone numbers, in the person
column, the actor column (an insured actor's username is their CNSS number),
the reason and anywhere inside the before/after JSON, by field name (``cin``,
``previous_cins``, ``cnss_number``, ``phone``, …) and by shape in free text. A
supervisor who needs the full value opens the record, which is itself audited
(docs/backoffice.md, "Audit trail export").

Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return as a formula (OWASP "CSV Injection"); anything an
outsider could have typed ends up in the trail (a reason, a name), so such a
cell is written with a leading apostrophe, which spreadsheets show as text.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from damane.masking import mask

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


# A JSON field holding an identifier, whatever the app: cin, previous_cins, holder_cin,
# cnss_number, insured_cnss_number, phone, phones, …
IDENTIFIER_KEY = re.compile(r"(?:^|_)(?:cins?|cnss(?:_numbers?)?|phones?)$", re.IGNORECASE)
# The same identifiers in free text (a reason, a note), shaped as the log redaction
# finds them (damane/logging.py): a CNSS number, a phone number, a CIN.
IDENTIFIER_TEXT = re.compile(
    r"\+\d{8,15}\b"  # phone number, E.164
    r"|\b0[5-7]\d{8}\b"  # phone number, national format
    r"|\b\d{9}\b"  # CNSS number
    r"|\b[A-Z]{1,2}\d{4,6}\b",  # CIN
    re.IGNORECASE,
)


def mask_text(text: str) -> str:
    """``text`` with every CIN, CNSS number and phone number in it masked."""
    return IDENTIFIER_TEXT.sub(lambda found: mask(found.group()), text)


def mask_identifiers(value, *, identifier: bool = False):
    """A copy of a before/after value with its identifiers masked (``identifier``: a value under such a key)."""
    if isinstance(value, dict):
        return {
            key: mask_identifiers(item, identifier=identifier or bool(IDENTIFIER_KEY.search(str(key))))
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_identifiers(item, identifier=identifier) for item in value]
    if isinstance(value, str):
        return mask(value) if identifier else mask_text(value)
    if identifier and isinstance(value, int) and not isinstance(value, bool):
        return mask(str(value))
    return value


def masked_row(row: tuple) -> tuple:
    """One row of ``FIELDS`` with the identifiers masked."""
    values = dict(zip(FIELDS, row, strict=True))
    values["actor_label"] = mask_text(values["actor_label"] or "")
    values["insured__cnss_number"] = mask(values["insured__cnss_number"]) if values["insured__cnss_number"] else ""
    values["reason"] = mask_text(values["reason"] or "")
    values["before"] = mask_identifiers(values["before"])
    values["after"] = mask_identifiers(values["after"])
    return tuple(values[name] for name in FIELDS)


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
    """The entries' cells, identifiers masked, read in chunks (a server-side cursor on PostgreSQL)."""
    return (masked_row(row) for row in entries.values_list(*FIELDS).iterator(chunk_size=CHUNK_SIZE))
