"""Issue 19, item 11: the audit CSV export masks CINs, CNSS numbers and phone numbers, in its columns and inside
the before/after JSON, as the pages do (last three characters); a supervisor who needs one opens the record."""

import csv
import io
from datetime import date

import pytest
from django.urls import reverse

from accounts.models import User
from audit.export import mask_identifiers, mask_text
from audit.services import audit_record
from registry.models import Insured
from tests.backoffice.conftest import verified_login
from unregistered import services as unregistered_services

pytestmark = pytest.mark.django_db

FULL = ["100789016", "BK654321", "B345678", "BE123456", "JK123456", "+212612345678", "0612345678"]


@pytest.fixture
def trail(agent, supervisor):
    salma = Insured.objects.create(
        cnss_number="100789016", cin="BK654321", last_name="CHRAIBI", first_name="SALMA", registered_on=date(2012, 1, 1)
    )
    # An identity change as backoffice.services writes it: the identity fields before and after.
    audit_record(
        action="registry.insured.identity_changed",
        obj=salma,
        actor=supervisor,
        insured=salma,
        before={"cin": "B345678", "phone": "+212612345678", "last_name": "CHRAIBI"},
        after={"cin": "BK654321", "phone": "0612345678", "last_name": "CHRAIBI"},
        reason="Nouvelle CIN BK654321 présentée, ancienne b345678",
    )
    # A registry import that added an earlier CIN.
    audit_record(
        action="registry.insured.updated",
        obj=salma,
        actor=None,
        insured=salma,
        before={"cin": "B345678"},
        after={"cin": "BK654321", "previous_cins_added": ["B345678"], "matches": [{"insured": salma.pk}]},
    )
    # An insured person's own action: their username is their CNSS number.
    account = User.objects.create_user(username="100789016", password="x" * 16, insured=salma)
    audit_record(action="accounts.user.password_changed", obj=account, actor=account, insured=salma)
    # A person absent from the registry, recorded through the service.
    unregistered_services.unregistered_record(
        actor=agent,
        values={
            "cin": "JK123456",
            "last_name": "EL IDRISSI",
            "first_name": "NADIA",
            "last_name_ar": "الإدريسي",
            "first_name_ar": "نادية",
            "birth_date": date(1992, 4, 17),
        },
    )
    return salma


def export_text(client):
    response = client.post(reverse("audit:export"), {})
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8")[1:]


def test_the_export_holds_no_full_identifier_only_masked_ones(client, supervisor, trail):
    verified_login(client, supervisor)
    text = export_text(client)
    for value in FULL:
        assert value not in text and value.lower() not in text
    rows = {row["action"]: row for row in csv.DictReader(io.StringIO(text))}
    changed = rows["registry.insured.identity_changed"]
    assert changed["insured_cnss_number"] == "••••••016"
    assert '"cin": "•••••321"' in changed["after"] and '"cin": "••••678"' in changed["before"]
    assert '"phone": "••••••••••678"' in changed["before"] and '"phone": "•••••••678"' in changed["after"]
    assert '"last_name": "CHRAIBI"' in changed["after"]
    assert changed["reason"] == "Nouvelle CIN •••••321 présentée, ancienne ••••678"
    updated = rows["registry.insured.updated"]
    assert '"previous_cins_added": ["••••678"]' in updated["after"]
    assert f'"matches": [{{"insured": {trail.pk}}}]' in updated["after"]
    assert rows["accounts.user.password_changed"]["actor"] == "••••••016"
    recorded = rows["unregistered.person.recorded"]
    assert '"cin": "•••••456"' in recorded["after"] and "NADIA" in recorded["after"]


def test_the_trail_page_masks_an_insured_actor_and_identifiers_in_reasons(client, supervisor, trail):
    verified_login(client, supervisor)
    html = client.get(reverse("audit:trail")).content.decode()
    assert "100789016" not in html and "BK654321" not in html
    assert "••••••016" in html and "•••••321" in html


def test_masking_keeps_what_is_not_an_identifier():
    assert mask_text("AT-2026-00000042 du 2026-12-07, réf. DM-2026-000123") == (
        "AT-2026-00000042 du 2026-12-07, réf. DM-2026-000123"
    )
    assert mask_identifiers({"insured": 42, "status": "pending", "ok": True, "days": [26, 78], "none": None}) == {
        "insured": 42,
        "status": "pending",
        "ok": True,
        "days": [26, 78],
        "none": None,
    }
    assert mask_identifiers({"holder": {"cnss_number": 100234561, "cins": ["BE123456", "B1"]}}) == {
        "holder": {"cnss_number": "••••••561", "cins": ["•••••456", "••"]}
    }
