"""Concurrent imports on PostgreSQL: the loser is rejected cleanly, nothing half-stored."""

import pytest

from declarations.models import Declaration, EbdsFile
from declarations.services import ImportRejected, import_ebds
from registry.models import Insured
from tests.declarations.ebds_testkit import make_declaration, make_line, write
from tests.threads import run_in_threads


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_employers_registering_the_same_new_employee_at_once_store_one_and_reject_the_other():
    new_hire = make_line(cnss_number="123456789", name="NACIRI HAJAR", cin="BE765432", is_new=True)
    texts = iter(
        [
            write(make_declaration(affiliation_number="1111111", lines=[new_hire], transfer_id="11111110202501")),
            write(make_declaration(affiliation_number="2222222", lines=[new_hire], transfer_id="22222220202501")),
        ]
    )
    files = [next(texts), next(texts)]
    counter = iter(range(2))

    def import_one():
        text = files[next(counter)]
        return import_ebds(text=text, filename="DS.txt")

    outcomes = run_in_threads(2, import_one)
    assert Insured.objects.filter(cnss_number="123456789").count() == 1
    rejected = [o for o in outcomes if isinstance(o, ImportRejected)]
    # Either both went in one after the other (the second saw the person), or the loser was rejected whole.
    assert len(rejected) in (0, 1)
    assert EbdsFile.objects.count() == Declaration.objects.count() == 2 - len(rejected)
    assert not [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, ImportRejected)]
