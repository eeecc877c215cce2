"""Issue 19, item 8: issuing a treaty certificate is one event, so one e-mail ("your certificate is ready"),
as an approved identity change sends one; the request it closes does not add "your request was updated"."""

import pytest
from django.core import mail

from accounts.models import OutboundEmail
from casework.models import CaseStatus
from tests.treaties.test_services import record
from treaties import services

pytestmark = pytest.mark.django_db


def test_issuing_the_certificate_sends_one_e_mail_and_closes_the_request(
    treaty_case, officer, second_officer, france, media, hassan_account
):
    version = record(treaty_case, officer, france)
    services.periods_approve(version=version, actor=second_officer)
    earlier = set(OutboundEmail.objects.values_list("pk", flat=True))
    mail.outbox.clear()

    services.treaty_certificate_issue(case=treaty_case, actor=officer)

    new = OutboundEmail.objects.exclude(pk__in=earlier)
    assert list(new.values_list("template", "to")) == [("treaty_certificate_ready", "hassan.amrani@example.fr")]
    assert [message.to for message in mail.outbox] == [["hassan.amrani@example.fr"]]
    treaty_case.refresh_from_db()
    assert treaty_case.status == CaseStatus.DONE


def test_recording_the_periods_still_tells_the_insured_the_request_is_taken(
    treaty_case, officer, france, media, hassan_account
):
    record(treaty_case, officer, france)
    rows = OutboundEmail.objects.filter(template="insured_request_status")
    assert [row.context["status"] for row in rows] == ["in_progress"]
