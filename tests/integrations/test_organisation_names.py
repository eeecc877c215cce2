"""Issue 19, item 7: an organisation's name is unique whatever the case, in the database.

Eight supervisors registering the same organisation at once (names differing only by
case) leave one row; the seven others get the form error, never a 500. The migration
that adds the constraint keeps rows already duplicated, renamed so that they differ."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from audit.models import AuditEntry
from integrations.models import Organisation
from tests.backoffice.conftest import make_staff, verified_login
from tests.threads import run_in_threads

NAMES = [
    "Banque Atlas",
    "BANQUE ATLAS",
    "banque atlas",
    "Banque atlas",
    "BANQUE atlas",
    "banque ATLAS",
    "BaNqUe AtLaS",
    "bAnQuE aTlAs",
]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_registrations_of_one_name_leave_one_row_and_seven_form_errors():
    assert connection.vendor == "postgresql"
    supervisor = make_staff("chef.concurrent", "agent", "supervisor")
    clients = iter([verified_login(Client(headers={"accept-language": "en"}), supervisor) for _ in NAMES])
    names = iter(NAMES)

    def register():
        client, name = next(clients), next(names)
        return client.post("/staff/integrators/", {"name": name, "kind": "bank", "contact_email": "api@atlas.example"})

    responses = run_in_threads(len(NAMES), register)
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [302] + [400] * 7, statuses
    for response in responses:
        if response.status_code == 400:
            assert "An organisation with this name is already registered." in response.content.decode()
    assert Organisation.objects.count() == 1
    assert AuditEntry.objects.filter(action="integrations.organisation.registered").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_migration_renames_names_that_differ_only_by_case_and_keeps_the_rows():
    supervisor = make_staff("chef.migration", "agent", "supervisor")
    executor = MigrationExecutor(connection)
    before, after = (
        ("integrations", "0002_integratorverification_insured_optional"),
        ("integrations", "0003_organisation_name_unique_any_case"),
    )
    executor.migrate([before])
    try:
        old = executor.loader.project_state([before]).apps.get_model("integrations", "Organisation")
        rows = [
            old.objects.create(name=name, kind="bank", contact_email="x@example.ma", created_by_id=supervisor.pk)
            for name in ["Banque Atlas", "BANQUE ATLAS", "banque atlas (2)", "Wafa", "x" * 120, "X" * 120]
        ]
        executor = MigrationExecutor(connection)
        executor.migrate([after])
    finally:
        MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    names = dict(Organisation.objects.values_list("pk", "name"))
    assert [names[row.pk] for row in rows] == [
        "Banque Atlas",
        "BANQUE ATLAS (2)",
        "banque atlas (2) (2)",
        "Wafa",
        "x" * 120,
        "X" * 116 + " (2)",
    ]
    assert len({name.lower() for name in names.values()}) == len(rows)
