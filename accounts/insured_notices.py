"""Notices to insured persons about their files at the agency (issue 12, item 4).

``insured_notify`` queues one e-mail through the accounts outbox
(``accounts.notifications.send_notice``): written by a worker once the
transaction commits, in the language of the person's account. The e-mail
carries the person's first name and a reference, nothing else about them: no
CIN, CNSS number, phone, names of employers or values of a record.

Nothing is sent to a person without an account or without an e-mail address:
the phone in the registry is the employer-declared one, kept for codes.
"""

from __future__ import annotations

import logging

from django.conf import settings

from accounts.notifications import send_notice

logger = logging.getLogger("accounts.insured_notices")

# Event -> template under templates/accounts/email/.
EVENTS = {
    "request_status": "insured_request_status",
    "identity_change_approved": "insured_identity_approved",
    "identity_change_rejected": "insured_identity_rejected",
}


def insured_notify(*, insured, event: str, reference: str, status: str = ""):
    """Queue the ``event`` e-mail to the account of ``insured``; None when there is nobody to write to."""
    if event not in EVENTS:
        raise ValueError(f"unknown notice event {event!r}")
    account = getattr(insured, "account", None) if insured is not None else None
    if account is None or not account.is_active or not account.email:
        logger.info("notice %s for %s not sent: no account e-mail", event, reference)
        return None
    context = {"first_name": insured.first_name.title(), "reference": reference}
    if status:
        context["status"] = status
    return send_notice(
        to=account.email,
        template=EVENTS[event],
        context=context,
        language=account.language or settings.LANGUAGE_CODE,
        user=account,
    )
