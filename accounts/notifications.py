"""E-mails to account owners, rendered in the owner's language, sent by a worker.

``send_notice`` records the e-mail in the ``OutboundEmail`` outbox and enqueues
its task when the transaction commits; ``notice_deliver`` (the task's body)
renders ``templates/accounts/email/<template>_subject.txt`` and ``_body.txt``
and hands them to the mail backend, once. Password-reset links are made by the
worker, so no token is stored or passed through the broker.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import OutboundEmail
from damane.background import enqueue, last_attempt, outbox_claim_stale, retry_delay
from damane.metrics import EMAIL_SENDS

logger = logging.getLogger("accounts.notifications")


def send_notice(*, to: str, template: str, context: dict | None = None, language: str = "", user=None):
    """Queue the ``template`` e-mail to ``to``; a worker sends it once the transaction commits.

    A mail failure is logged and shown in the outbox, never to the person: the
    change it reports has happened.
    """
    from accounts import tasks

    if not to:
        return None
    email = OutboundEmail.objects.create(
        to=to,
        template=template,
        context=context or {},
        language=language or translation.get_language() or "",
        user=user if getattr(user, "pk", None) else None,
    )
    enqueue(tasks.send_email, email.pk)
    return email


def _password_reset_context(email: OutboundEmail) -> dict:
    user = email.user
    return {"uid": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user)}


# Context made when the e-mail is sent, from the row (never stored).
SEND_TIME_CONTEXT = {"password_reset": _password_reset_context}


def render_notice(email: OutboundEmail) -> tuple[str, str]:
    context = {"site_url": settings.SITE_URL, **email.context}
    if email.template in SEND_TIME_CONTEXT:
        context.update(SEND_TIME_CONTEXT[email.template](email))
    with translation.override(email.language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"accounts/email/{email.template}_subject.txt", context).strip()
        body = render_to_string(f"accounts/email/{email.template}_body.txt", context)
    return " ".join(subject.splitlines()), body


def notice_deliver(*, email_id: int, final_attempt: bool = True) -> str:
    """Send the queued e-mail ``email_id`` once; return its status afterwards.

    An e-mail found ``sending`` is being sent by another delivery of the task
    and is left alone; claimed longer than ``DAMANE_OUTBOX_STUCK_AFTER_SECONDS``,
    it was handed to the mail server by an attempt that never reported back: it
    is closed as failed, not sent again. When the server refused it, it is
    queued again with its ``next_attempt_at`` (the outbox sweep sends it then),
    unless this was the last attempt (``final_attempt``, or the
    ``DAMANE_TASK_MAX_RETRIES``-th retry).
    """
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().filter(pk=email_id).first()
        if email is None:
            return "missing"
        if email.status == OutboundEmail.Status.SENDING:
            if not outbox_claim_stale(email.claimed_at):
                logger.info("e-mail %s: already being sent by another attempt; left alone", email.pk)
                return email.status
            _finish(email, OutboundEmail.Status.FAILED, error="interrupted while sending: delivery unknown")
            return email.status
        if email.status != OutboundEmail.Status.QUEUED:
            return email.status
        if email.template in SEND_TIME_CONTEXT and email.user is None:
            _finish(email, OutboundEmail.Status.FAILED, error="the account is gone")
            return email.status
        email.status = OutboundEmail.Status.SENDING
        email.attempts += 1
        email.claimed_at = timezone.now()
        email.next_attempt_at = None
        email.save(update_fields=["status", "attempts", "claimed_at", "next_attempt_at"])
    subject, body = render_notice(email)
    try:
        send_mail(subject, body, None, [email.to])
    except Exception as exc:  # any mail transport error: SMTP, DNS, socket
        retry = not final_attempt and not last_attempt(email.attempts)
        EMAIL_SENDS.labels(outcome="retry" if retry else "failed").inc()
        logger.warning("e-mail %s (%s) failed, attempt %s: %s", email.pk, email.template, email.attempts, exc)
        with transaction.atomic():
            if retry:
                email.next_attempt_at = timezone.now() + retry_delay(email.attempts)
                email.save(update_fields=["next_attempt_at"])
            _finish(email, OutboundEmail.Status.QUEUED if retry else OutboundEmail.Status.FAILED, error=str(exc))
        return email.status
    _finish(email, OutboundEmail.Status.SENT)
    EMAIL_SENDS.labels(outcome="sent").inc()
    logger.info("e-mail %s (%s) sent", email.pk, email.template)
    return email.status


def _finish(email: OutboundEmail, status: str, *, error: str = "") -> None:
    email.status = status
    email.error = error[:2000]
    email.sent_at = timezone.now() if status == OutboundEmail.Status.SENT else None
    email.save(update_fields=["status", "error", "sent_at"])
