"""Stored PDFs partitioned by month of issue, so that a month past the retention is dropped at once.

The file gets its certificate's day of issue (the partition key). On PostgreSQL
the table is then rebuilt as ``PARTITION BY RANGE (issued_on)``, one partition
a month, in this migration's transaction (certificates/retention.py); other
databases (the SQLite demo) keep a plain table.
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.utils import timezone


def copy_issue_dates(apps, schema_editor):
    Certificate = apps.get_model("certificates", "Certificate")
    CertificateFile = apps.get_model("certificates", "CertificateFile")
    CertificateFile.objects.update(
        issued_on=Subquery(Certificate.objects.filter(pk=OuterRef("certificate_id")).values("issued_on")[:1])
    )


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from certificates.retention import CONVERSION, FILES, months_to_create
    from damane.partitions import convert_at_once, ensure_months, is_partitioned

    today = timezone.localdate()
    with schema_editor.connection.cursor() as cursor:
        if not is_partitioned(cursor, FILES.table):
            convert_at_once(cursor, CONVERSION, months_to_create(cursor, today=today))
        ensure_months(cursor, FILES, months_to_create(cursor, today=today))


class Migration(migrations.Migration):
    dependencies = [
        ("certificates", "0005_certificate_kind_choices_from_registry"),
    ]

    operations = [
        migrations.AddField(
            model_name="certificatefile",
            name="issued_on",
            field=models.DateField(null=True, verbose_name="issued on"),
        ),
        migrations.RunPython(copy_issue_dates, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="certificatefile",
            name="issued_on",
            field=models.DateField(verbose_name="issued on"),
        ),
        migrations.RunPython(partition, migrations.RunPython.noop),
    ]
