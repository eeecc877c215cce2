"""Declaration lines partitioned by RANGE on the period, one partition a month.

On PostgreSQL the table is rebuilt as a partitioned one in this migration's
transaction (a lock on the lines while it copies them), unless ``manage.py
partition_lines`` already converted it in batches on the live database: then
the table is partitioned and nothing is done here. Other databases (the SQLite
demo) keep a plain table. The model's "once per declaration" now names the
period too, which a partitioned table's unique keys must hold
(declarations/partitioning.py, docs/decisions.md).
"""

from django.db import migrations, models
from django.utils import timezone

OLD = models.UniqueConstraint(fields=("declaration", "insured"), name="line_once_per_declaration")
NEW = models.UniqueConstraint(fields=("declaration", "insured", "period"), name="line_once_per_declaration")


def partition(apps, schema_editor):
    # ``apps`` is the state with the new constraint (the state operation runs first).
    model = apps.get_model("declarations", "DeclarationLine")
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        # SQLite remakes the table from the model, which holds the new constraint.
        schema_editor.remove_constraint(model, OLD)
        return
    if vendor != "postgresql":
        schema_editor.remove_constraint(model, OLD)
        schema_editor.add_constraint(model, NEW)
        return
    from damane.partitions import convert_at_once, is_partitioned
    from declarations.partitioning import CONVERSION, TABLE, create_line_partitions, months_to_create

    with schema_editor.connection.cursor() as cursor:
        today = timezone.localdate()
        if not is_partitioned(cursor, TABLE):
            convert_at_once(cursor, CONVERSION, months_to_create(cursor, today=today))
        create_line_partitions(cursor, today=today)


class Migration(migrations.Migration):
    atomic = True

    dependencies = [
        ("declarations", "0004_lines_without_row_triggers"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(model_name="declarationline", name="line_once_per_declaration"),
                migrations.AddConstraint(model_name="declarationline", constraint=NEW),
            ],
        ),
        # PostgreSQL: the partitioned table (its keys hold the period); elsewhere the new constraint.
        # Not reversed: the partitioned table and the wider constraint serve the earlier code alike.
        migrations.RunPython(partition, migrations.RunPython.noop),
    ]
