"""Issue 12, item 4: the insured person is told by e-mail, in the account's language, through the outbox,
when a request changes state and when an identity change is approved or rejected; the message carries
a first name and a reference, no other personal data."""

from datetime import date

import pytest
from django.core import mail

from accounts.models import OutboundEmail, User
from backoffice import services
from casework.models import CaseKind, CaseStatus
from casework.services import case_create, case_decide
from registry.models import Insured
from tests.backoffice.conftest import pdf_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def amina(db):
    insured = Insured.objects.create(
        cnss_number="100234561",
        cin="BE123456",
        last_name="BENNANI",
        first_name="AMINA",
        phone="+212612345678",
        birth_date=date(1990, 5, 4),
        registered_on=date(2011, 3, 1),
    )
    User.objects.create_user(
        username="100234561", email="amina@example.ma", password="x" * 16, insured=insured, language="ar"
    )
    return insured


def assert_no_personal_data(message, insured):
    text = message.subject + message.body
    for value in (insured.cin, insured.cnss_number, insured.phone, insured.last_name, "1990"):
        assert value not in text


def test_taking_and_closing_a_request_each_send_one_email_in_the_accounts_language(amina, agent):
    case = case_create(insured=amina, kind=CaseKind.TREATY, details={"country": "FR"})
    mail.outbox.clear()
    case_decide(case=case, actor=agent, status=CaseStatus.IN_PROGRESS, note="")
    case_decide(case=case, actor=agent, status=CaseStatus.DONE, note="Attestation prête, CIN BE123456")
    assert [m.to for m in mail.outbox] == [["amina@example.ma"], ["amina@example.ma"]]
    taken, done = mail.outbox
    assert case.reference in taken.subject and case.reference in done.body
    # Arabic, the account's language, whatever the language of the agent's request.
    assert "أمينة" not in done.body  # the first name is printed as registered
    assert "Amina" in done.body
    assert "الوكالة" in done.body
    for message in mail.outbox:
        assert_no_personal_data(message, amina)
    rows = OutboundEmail.objects.filter(template="insured_request_status").order_by("pk")
    assert [row.context["status"] for row in rows] == ["in_progress", "done"]
    assert all(row.status == OutboundEmail.Status.SENT and row.language == "ar" for row in rows)
    assert all(set(row.context) == {"first_name", "reference", "status"} for row in rows)


def test_a_rolled_back_decision_sends_nothing(amina, agent):
    case = case_create(insured=amina, kind=CaseKind.TREATY, details={"country": "FR"})
    mail.outbox.clear()
    with pytest.raises(services.BackofficeError):
        services.case_handle(case=case, actor=agent, status=CaseStatus.DONE, note="")
    assert mail.outbox == []
    assert not OutboundEmail.objects.filter(template="insured_request_status").exists()


def test_approval_sends_one_email_and_not_a_second_for_the_request_it_closes(amina, agent, supervisor, media):
    amina.account.language = "fr"
    amina.account.save()
    case = case_create(insured=amina, kind=CaseKind.NAME_CORRECTION, details={})
    change = services.identity_change_propose(
        insured=amina, actor=agent, values={"first_name": "AMINAT"}, reason="CIN", document=pdf_upload(), case=case
    )
    mail.outbox.clear()
    services.identity_change_approve(change=change, actor=supervisor)
    [message] = mail.outbox
    assert message.subject == "Damane : votre dossier a été corrigé"
    assert case.reference in message.body and "Aminat" in message.body
    assert_no_personal_data(message, amina)


def test_rejection_is_notified_with_the_change_number_when_no_request(amina, agent, supervisor, media):
    change = services.identity_change_propose(
        insured=amina, actor=agent, values={"cin": "BE999999"}, reason="CIN", document=pdf_upload()
    )
    mail.outbox.clear()
    services.identity_change_reject(change=change, actor=supervisor, note="Document illisible")
    [message] = mail.outbox
    assert f"MI-{change.pk:07d}" in message.body
    assert "BE999999" not in message.body and "illisible" not in message.body
    assert_no_personal_data(message, amina)


def test_people_without_an_account_or_email_get_nothing(agent):
    insured = Insured.objects.create(
        cnss_number="100345672", cin="J456789", last_name="ALAMI", first_name="YOUSSEF", registered_on=date(2015, 1, 1)
    )
    case = case_create(insured=insured, kind=CaseKind.TREATY, details={"country": "BE"})
    case_decide(case=case, actor=agent, status=CaseStatus.IN_PROGRESS, note="")
    User.objects.create_user(username="100345672", email="", password="x" * 16, insured=insured)
    case_decide(case=case, actor=agent, status=CaseStatus.REJECTED, note="Pas de périodes")
    assert not OutboundEmail.objects.exists()
