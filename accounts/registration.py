"""What a registration shows, alike for real ones and decoys, and the worker that sends its code (docs/accounts.md).

A matching CNSS number / CIN pair always gets a ``Registration`` row. A decoy (the
account is already active or was disabled, or the e-mail belongs to another
account) is never sent a code and can never be activated, but the request does
the same work for it and its pages walk the same states: the spacing between
codes and the wrong tries come from the row, not from the SMS outbox. The
worker (``send_registration_code``) finds out which it is and sends the SMS, or
tells the owner by e-mail, or does nothing.
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Max
from django.utils import translation

from accounts.errors import AccountError, CodeExpired, CodeTriesExhausted
from accounts.models import OneTimeCode, Registration, SmsMessage, User

logger = logging.getLogger("accounts.registration")

ACTIVATION = OneTimeCode.Purpose.ACTIVATION
# A decoy shows its SMS as on its way this long, as a real one does until a worker has sent it.
DECOY_QUEUED_SECONDS = 2


def last_code_wait(user_id: int, now) -> int:
    """Seconds before a new code can go for this account: one a minute, over all its registrations, real or decoy."""
    last = Registration.objects.filter(user_id=user_id).aggregate(last=Max("sent_at"))["last"]
    if last is None:
        return 0
    ready = last + timedelta(seconds=settings.DAMANE_SMS_MIN_INTERVAL_SECONDS)
    return max(0, math.ceil((ready - now).total_seconds()))


def latest_code(registration: Registration):
    """The registration's latest code with its SMS, or None."""
    return registration.codes.select_related("sms").order_by("-pk").first()


_UNREAD = object()


def resend_wait(registration: Registration, now, *, latest=_UNREAD) -> int:
    """Seconds before "send a new code" can work for this registration (0: now).

    A real code whose SMS failed does not count: the person may ask again at once.
    ``latest`` is ``latest_code(registration)`` when the caller has it already.
    """
    wait = last_code_wait(registration.user_id, now)
    latest = latest_code(registration) if latest is _UNREAD else latest
    if latest is not None and latest.sms_id and latest.sms.status == SmsMessage.Status.FAILED:
        return 0
    return wait


def code_state_error(registration: Registration, now) -> AccountError | None:
    """Why no code can be accepted for this registration whatever was typed, or None while its code is live."""
    ttl = timedelta(seconds=settings.DAMANE_OTP_TTL_SECONDS)
    if registration.sent_at is None or registration.sent_at + ttl <= now:
        return CodeExpired()
    if registration.tries >= settings.DAMANE_OTP_MAX_TRIES_PER_CODE:
        return CodeTriesExhausted()
    return None


def sms_status(registration: Registration, now, *, latest=_UNREAD) -> str:
    """queued, sent or failed: where the registration's last SMS is (a decoy's is simulated)."""
    from accounts.codes import code_status

    latest = latest_code(registration) if latest is _UNREAD else latest
    if not registration.decoy and latest is not None:
        return code_status(latest)
    # No code yet: the worker has not run (a real registration) or never sends (a decoy).
    if registration.sent_at is None:
        return SmsMessage.Status.FAILED
    waited = now - registration.sent_at
    if not registration.decoy:
        # The worker never took it (the broker was down): after a minute, the person asks again.
        lost = waited >= timedelta(seconds=settings.DAMANE_SMS_MIN_INTERVAL_SECONDS)
        return SmsMessage.Status.FAILED if lost else SmsMessage.Status.QUEUED
    if waited < timedelta(seconds=DECOY_QUEUED_SECONDS):
        return SmsMessage.Status.QUEUED
    return SmsMessage.Status.SENT


@shared_task
def send_registration_code(registration_id: int, first: bool = True) -> str:
    """The worker's half of a registration or a resend: the SMS for a real one, the owner's e-mail for a decoy.

    The phone's own limits apply here (``codes.code_send``); a refusal is logged
    and the page shows the SMS as failed, so the person asks again.
    """
    from accounts import codes
    from accounts.notifications import send_notice
    from accounts.services import mask_cnss_number

    registration = Registration.objects.select_related("user__insured").filter(pk=registration_id).first()
    if registration is None or registration.completed_at is not None:
        return "none"
    user = registration.user
    if registration.decoy:
        if not first:
            return "decoy"
        context = {"cnss_number_masked": mask_cnss_number(user.insured.cnss_number)}
        if user.activated_at is not None or user.is_active:
            # A disabled account gets no e-mail.
            if user.is_active:
                send_notice(
                    to=user.email,
                    template="registration_existing",
                    context=context,
                    language=user.language or registration.language,
                    user=user,
                )
            return "decoy"
        owner = User.objects.filter(email__iexact=registration.email).exclude(pk=user.pk).first()
        if owner is not None:
            send_notice(
                to=owner.email,
                template="registration_email_taken",
                context=context,
                language=owner.language or registration.language,
                user=owner,
            )
        return "decoy"
    if registration.sent_at is None:
        return "waiting"  # within a minute of the last code: nothing goes
    try:
        with translation.override(registration.language or settings.LANGUAGE_CODE):
            codes.code_send(user=user, purpose=ACTIVATION, phone=user.insured.phone, registration=registration)
    except AccountError as exc:
        # The phone's limits refused it (an SMS of another kind went a moment ago):
        # the page shows the SMS as not sent, and the person asks again.
        Registration.objects.filter(pk=registration.pk).update(sent_at=None)
        logger.info("activation SMS for registration %s not queued: %s", registration.pk, type(exc).__name__)
        return "refused"
    return "queued"
