"""Issue 19: every certificate kind × every verification channel × holder registered or not.

Each certificate is issued once for the module (signing is slow) inside a transaction rolled back at the end
of the module; each test runs in its own savepoint, so a revocation made by a test is gone for the next.
Each channel answers genuine and valid for a genuine certificate, revoked after revocation, and never a 5xx.
The offline verifier, in Chromium, is tests/verification/test_matrix_browser.py."""

import pytest
from django.db import transaction

from certificates import registry as kind_registry
from tests.verification.matrix import CHANNELS, HOLDERS, REGISTERED, UNREGISTERED, cast, issue_all, revoke, today


@pytest.fixture(scope="module")
def matrix(django_db_setup, django_db_blocker):
    """{holder id: Issued} and the cast, made once and rolled back when the module ends."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer._from_testcase = True  # as Django's TestCase marks its own blocks (see tests/conftest.py)
        outer.__enter__()
        try:
            people = cast(today())
            issued = {item.holder.id: item for item in issue_all(people)}
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield {"people": people, "issued": issued}
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def ctx(matrix, settings, tmp_path, db):
    # The matrix makes many look-ups from one address: the per-address limit is tested elsewhere.
    settings.DAMANE_VERIFY_LOOKUPS_PER_MINUTE = 100_000
    return {**matrix["people"], "tmp_path": tmp_path}


CASES = [
    pytest.param(holder, channel, id=f"{holder.id}-{channel.name}")
    for holder in HOLDERS
    for channel in CHANNELS
    if channel.applies(holder)
]


def test_every_kind_has_a_way_to_be_issued_and_a_person_absent_from_the_registry_is_covered():
    assert {holder.kind for holder in HOLDERS} == set(kind_registry.values())
    assert {holder.holder for holder in HOLDERS} == {REGISTERED, UNREGISTERED}
    assert len({holder.id for holder in HOLDERS}) == len(HOLDERS)


def test_every_certificate_is_issued_as_its_kind_for_its_holder(matrix):
    assert set(matrix["issued"]) == {holder.id for holder in HOLDERS}


@pytest.mark.parametrize(("holder", "channel"), CASES)
def test_a_genuine_certificate_is_genuine_and_valid_on_every_channel(client, matrix, ctx, holder, channel):
    item = matrix["issued"][holder.id]
    seen = channel.check(client, item, ctx)
    assert seen.status == 200 and seen.state == "valid"


@pytest.mark.parametrize(("holder", "channel"), CASES)
def test_a_revoked_certificate_is_revoked_on_every_channel(client, matrix, ctx, holder, channel):
    item = matrix["issued"][holder.id]
    revoke(item, ctx["supervisor"])
    seen = channel.check(client, item, ctx)
    assert seen.status == 200 and seen.state == "revoked"
