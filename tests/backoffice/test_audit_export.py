"""Issue 12, item 3: supervisors filter the audit trail by who, what, when and which person, and export it as
CSV, streamed; every export is audited; cells a spreadsheet would run as formulas are defused."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from audit.export import safe_cell
from audit.models import AuditEntry, AuditExport
from audit.services import audit_record
from registry.models import Insured, PreviousCin
from tests.backoffice.conftest import make_staff, verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(agent, supervisor):
    salma = Insured.objects.create(
        cnss_number="100789016", cin="BK654321", last_name="CHRAIBI", first_name="SALMA", registered_on=date(2012, 1, 1)
    )
    PreviousCin.objects.create(insured=salma, cin="B345678")
    other = Insured.objects.create(
        cnss_number="100234561", cin="BE123456", last_name="BENNANI", registered_on=date(2011, 3, 1)
    )
    audit_record(action="backoffice.insured.viewed", obj=salma, actor=agent, insured=salma)
    audit_record(
        action="registry.insured.identity_changed",
        obj=salma,
        actor=supervisor,
        insured=salma,
        before={"last_name": "CHRAIBI"},
        after={"last_name": '=HYPERLINK("http://evil.example","x")'},
        reason="@SUM(1+1)",
    )
    audit_record(action="certificates.certificate.revoked", obj=other, actor=agent, insured=other, reason="-2+3")
    old = audit_record(action="backoffice.insured.viewed", obj=other, actor=supervisor, insured=other)
    AuditEntry.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=40))
    return {"salma": salma, "other": other}


def export(client, **filters):
    response = client.post(reverse("audit:export"), filters)
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"])
def test_cells_a_spreadsheet_would_run_are_defused(cell):
    assert safe_cell(cell) == "'" + cell
    assert safe_cell({"a": cell}).startswith("{")


def test_plain_cells_are_unchanged():
    assert safe_cell("BENNANI") == "BENNANI"
    assert safe_cell(None) == ""
    assert safe_cell("بناني") == "بناني"


def test_a_supervisor_filters_by_person_with_an_earlier_cin(client, supervisor, trail):
    verified_login(client, supervisor)
    response = client.get(reverse("audit:trail"), {"person": "b345678"})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    assert [entry.action for entry in response.context["page"]] == [
        "registry.insured.identity_changed",
        "backoffice.insured.viewed",
    ]


@pytest.mark.parametrize(
    ("filters", "actions"),
    [
        ({"actor": "AGENT.CASA"}, ["certificates.certificate.revoked", "backoffice.insured.viewed"]),
        ({"action": "certificates."}, ["certificates.certificate.revoked"]),
        ({"person": "100234561"}, ["certificates.certificate.revoked", "backoffice.insured.viewed"]),
        (
            {"date_to": (timezone.localdate() - timedelta(days=30)).isoformat()},
            ["backoffice.insured.viewed"],
        ),
        ({"date_from": timezone.localdate().isoformat(), "actor": "chef.casa"}, ["registry.insured.identity_changed"]),
    ],
)
def test_filters_combine(client, supervisor, trail, filters, actions):
    verified_login(client, supervisor)
    page = client.get(reverse("audit:trail"), filters).context["page"]
    assert [entry.action for entry in page] == actions


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"person": "12345"}, "person"),
        ({"person": "ABC123"}, "person"),
        ({"action": "x'; DROP"}, "action"),
        ({"date_from": "2026-02-01", "date_to": "2026-01-01"}, "date_to"),
        ({"date_from": "31/02/2026"}, "date_from"),
        ({"date_to": "9999-12-31"}, "date_to"),
        ({"date_from": "0001-01-01"}, "date_from"),
    ],
)
def test_bad_filters_get_a_clear_error_and_export_nothing(client, supervisor, trail, filters, field):
    verified_login(client, supervisor)
    response = client.get(reverse("audit:trail"), filters)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert response.context["page"] is None
    response = client.post(reverse("audit:export"), filters)
    assert response.status_code == 400
    assert not AuditExport.objects.exists()
    assert not AuditEntry.objects.filter(action="audit.trail.exported").exists()


def test_the_export_streams_the_filtered_rows_defused_and_is_audited(client, supervisor, trail):
    verified_login(client, supervisor)
    rows = export(client, person="BK654321")
    assert [row["action"] for row in rows] == ["registry.insured.identity_changed", "backoffice.insured.viewed"]
    changed = rows[0]
    assert changed["reason"] == "'@SUM(1+1)"
    assert changed["insured_cnss_number"] == "••••••016"
    assert changed["actor"] == "chef.casa"
    assert "HYPERLINK" in changed["after"] and changed["after"].startswith("{")
    [record] = AuditExport.objects.all()
    assert record.rows == 2 and record.filters == {"person": "BK654321"} and record.actor == supervisor
    entry = AuditEntry.objects.get(action="audit.trail.exported")
    assert entry.actor == supervisor and entry.after == {"filters": {"person": "BK654321"}, "rows": 2}


def test_an_export_is_in_the_next_export_but_not_in_its_own(client, supervisor, trail):
    verified_login(client, supervisor)
    first = export(client, actor="chef.casa")
    assert "audit.trail.exported" not in [row["action"] for row in first]
    second = export(client, actor="chef.casa")
    assert [row["action"] for row in second].count("audit.trail.exported") == 1
    assert AuditEntry.objects.filter(action="audit.trail.exported").count() == 2


def test_a_hostile_cell_in_the_csv_file_is_text(client, supervisor, trail):
    verified_login(client, supervisor)
    rows = export(client, action="certificates.")
    assert rows[0]["reason"] == "'-2+3"


@pytest.mark.parametrize("role", ["agent", "none"])
def test_only_supervisors_see_or_export_the_trail(client, trail, role):
    user = make_staff(f"user.{role}", *(["agent"] if role == "agent" else []))
    verified_login(client, user)
    assert client.get(reverse("audit:trail")).status_code == 403
    assert client.post(reverse("audit:export"), {}).status_code == 403
    assert not AuditExport.objects.exists()


def test_anonymous_and_insured_visitors_never_reach_the_trail(client, trail, django_user_model):
    for method, url in ((client.get, reverse("audit:trail")), (client.post, reverse("audit:export"))):
        response = method(url)
        assert response.status_code == 302 and response["Location"].startswith("/staff/login/")
    insured_user = django_user_model.objects.create_user(
        username="100789016", password="x" * 16, insured=trail["salma"]
    )
    client.force_login(insured_user)
    assert client.get(reverse("audit:trail")).status_code == 404
    assert client.post(reverse("audit:export")).status_code == 404


def test_an_export_is_a_post_a_get_is_refused(client, supervisor, trail):
    verified_login(client, supervisor)
    assert client.get(reverse("audit:export")).status_code == 405
    assert not AuditExport.objects.exists()
