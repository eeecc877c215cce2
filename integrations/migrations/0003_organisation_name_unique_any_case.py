"""An organisation's name is unique whatever the case (issue 19, item 7).

Two registrations at once could both pass the service's case-insensitive check
and leave rows whose names differ only by case. Rows already in that state keep
their history (keys, look-ups and share-code uses point at them): the oldest
keeps its name, each later one is renamed "<name> (2)", "<name> (3)", … so that
staff can tell them apart, and suspend or keep each one.
"""

import django.db.models.functions.text
from django.db import migrations, models

MAX_LENGTH = 120


def rename_duplicates(apps, schema_editor):
    Organisation = apps.get_model("integrations", "Organisation")
    taken = set()
    renames = []
    for pk, name in Organisation.objects.order_by("created_at", "pk").values_list("pk", "name"):
        if name.lower() not in taken:
            taken.add(name.lower())
            continue
        number = 2
        while True:
            suffix = f" ({number})"
            candidate = name[: MAX_LENGTH - len(suffix)] + suffix
            if candidate.lower() not in taken:
                break
            number += 1
        taken.add(candidate.lower())
        renames.append((pk, candidate))
    for pk, candidate in renames:
        Organisation.objects.filter(pk=pk).update(name=candidate)


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0002_integratorverification_insured_optional"),
    ]

    operations = [
        migrations.RunPython(rename_duplicates, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="organisation",
            name="name",
            field=models.CharField(max_length=120, verbose_name="name"),
        ),
        migrations.AddConstraint(
            model_name="organisation",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("name"), name="organisation_name_unique_any_case"
            ),
        ),
    ]
