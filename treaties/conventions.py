"""The conventions loaded by migration ``treaties/0002``, for tests and fresh databases.

``ensure_conventions()`` puts back any of them a database flush removed (the
tests' transactional databases are flushed between tests, migrations are not
replayed).
"""

from importlib import import_module


def seeded_conventions() -> list[dict]:
    return import_module("treaties.migrations.0002_conventions_role_immutable_periods").CONVENTIONS


def ensure_conventions() -> None:
    from treaties.models import Convention

    for row in seeded_conventions():
        Convention.objects.get_or_create(country=row["country"], defaults=row)
