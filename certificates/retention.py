"""Stored PDFs kept for a rolling number of months, dropped a month at a time (docs/scaling.md).

On PostgreSQL ``certificates_certificatefile`` is ``PARTITION BY RANGE
(issued_on)``, one partition a month (``damane.partitions``), with primary key
``(id, issued_on)`` and unique ``(certificate_id, issued_on)`` (a certificate
has one day of issue, so this is the model's one file per certificate). The
daily job creates the months ahead and, once a month has passed
``DAMANE_PDF_RETENTION_MONTHS``, detaches and drops its partition: no row-by-row
delete, no vacuum. Other databases (the SQLite demo) delete the same rows.

After the purge a certificate keeps everything that verifies it on its row
(number, codes, snapshot, the PDF's SHA-256, the signing key id): the verify
page, the API and a PDF upload (matched by SHA-256, checked by its embedded
signature) answer as before. Only the download is gone; the holder's page says
so and offers a new certificate.
"""

# SQL here names tables and partitions from this module's constants; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import connection, transaction

from certificates.models import CertificateFile
from damane.partitions import (
    Conversion,
    MonthlyTable,
    add_months,
    drop_months_before,
    ensure_default,
    ensure_months,
    month_of,
    monthly_partitions,
)

TABLE = "certificates_certificatefile"
FILES = MonthlyTable(TABLE, "issued_on", text_period=False)
ONE_PER_CERTIFICATE = f"{TABLE}_certificate_id_key"

CONVERSION = Conversion(
    spec=FILES,
    keys=(
        f"ALTER TABLE {{table}} ADD CONSTRAINT {TABLE}_pkey_p PRIMARY KEY (id, issued_on)",
        f"ALTER TABLE {{table}} ADD CONSTRAINT {ONE_PER_CERTIFICATE}_p UNIQUE (certificate_id, issued_on)",
        f"ALTER TABLE {{table}} ADD CONSTRAINT {TABLE}_certificate_id_fk FOREIGN KEY (certificate_id) "
        "REFERENCES certificates_certificate (id) DEFERRABLE INITIALLY DEFERRED",
    ),
    renames=(("constraint", f"{TABLE}_pkey"), ("constraint", ONE_PER_CERTIFICATE)),
)


def cutoff(today: date) -> date:
    """The first day of the oldest month whose files are still kept."""
    return add_months(month_of(today), -settings.DAMANE_PDF_RETENTION_MONTHS)


def months_ahead(today: date) -> list[date]:
    return [add_months(month_of(today), n) for n in range(settings.DAMANE_PARTITIONS_AHEAD_MONTHS + 1)]


def months_to_create(cursor, *, today: date) -> list[date]:
    """Every month from the oldest kept file to the months ahead."""
    cursor.execute(f"SELECT min(issued_on) FROM {TABLE}")
    oldest = cursor.fetchone()[0]
    month = max(month_of(oldest), cutoff(today)) if oldest else month_of(today)
    last = months_ahead(today)[-1]
    months = []
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def purge_certificate_files(*, today: date, dry_run: bool = False) -> list[str]:
    """Drop the files issued before ``cutoff(today)``; create the months ahead. What was dropped.

    PostgreSQL: the names of the partitions dropped; elsewhere: one entry per
    file deleted. With ``dry_run``, what would be dropped, and nothing changes.
    """
    limit = cutoff(today)
    if connection.vendor != "postgresql":
        old = CertificateFile.objects.filter(issued_on__lt=limit)
        gone = [f"certificate {pk}" for pk in old.values_list("certificate_id", flat=True)]
        if not dry_run:
            old.delete()
        return gone
    with transaction.atomic(), connection.cursor() as cursor:
        if dry_run:
            return [name for month, name in sorted(monthly_partitions(cursor, FILES).items()) if month < limit]
        ensure_default(cursor, FILES)
        ensure_months(cursor, FILES, months_ahead(today))
        return drop_months_before(cursor, FILES, limit)
