"""One-time SMS codes (SECURITY.md 1-5).

A code is 6 digits from ``secrets``, valid 10 minutes, accepted once, and bound
to one account, one purpose and (for activation) one registration: the HMAC
covers all of them, so a code for one purpose never validates another. Only the
HMAC is stored; comparison is constant-time.

Sends are limited per phone number across accounts (60 s apart, 5 an hour, 10 a
day), counted from the outbox while a per-number row lock is held, so two
concurrent requests cannot both slip under a limit. Wrong tries count per code
(5, then the code is dead) and per account (10 in 10 minutes, then a 10-minute
lock); a new code does not reset the account count.

Counters are written in the same transaction that decides, and errors are raised
only after that transaction commits, so a refusal never rolls back its own count.
"""

from __future__ import annotations

import math
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from accounts import throttles
from accounts.errors import (
    AccountError,
    CodeExpired,
    CodeInvalid,
    CodeLocked,
    CodeTriesExhausted,
    SendRefused,
    SmsNotSent,
)
from accounts.models import OneTimeCode, Registration, SmsMessage
from accounts.sms import send_sms

_HMAC_SALT = "damane.accounts.one-time-code"


def generate_code() -> str:
    digits = settings.DAMANE_OTP_DIGITS
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def code_hmac(*, user_id: int, purpose: str, registration_id: int | None, code: str) -> str:
    secret = settings.DAMANE_OTP_KEY or settings.SECRET_KEY
    value = f"{user_id}:{purpose}:{registration_id or ''}:{code}"
    return salted_hmac(_HMAC_SALT, value, secret=secret, algorithm="sha256").hexdigest()


def account_key(user_id: int) -> str:
    return f"otp:user:{user_id}"


def sms_body(purpose: str, code: str) -> str:
    minutes = settings.DAMANE_OTP_TTL_SECONDS // 60
    if purpose == OneTimeCode.Purpose.ACTIVATION:
        text = _("Damane: your activation code is %(code)s. It is valid %(minutes)d minutes. Never share it.")
    elif purpose == OneTimeCode.Purpose.RECOVERY:
        text = _(
            "Damane: your code to choose a new password is %(code)s. It is valid %(minutes)d minutes. Never share it."
        )
    else:
        text = _("Damane: your code is %(code)s. It is valid %(minutes)d minutes. Never share it.")
    return text % {"code": code, "minutes": minutes}


def send_retry_after(phone: str, now: datetime) -> int:
    """Seconds before another SMS may go to ``phone``; 0 if it may go now."""
    sent = SmsMessage.objects.filter(to=phone, status=SmsMessage.Status.SENT)
    waits = []
    limits = [
        (settings.DAMANE_SMS_MIN_INTERVAL_SECONDS, 1),
        (3600, settings.DAMANE_SMS_MAX_PER_HOUR),
        (24 * 3600, settings.DAMANE_SMS_MAX_PER_DAY),
    ]
    for window, limit in limits:
        recent = sent.filter(created_at__gt=now - timedelta(seconds=window))
        if recent.count() >= limit:
            # The window frees a slot when its oldest sends fall out of it.
            oldest = recent.order_by("created_at").values_list("created_at", flat=True)[recent.count() - limit]
            waits.append(math.ceil((oldest + timedelta(seconds=window) - now).total_seconds()))
    return max(waits, default=0)


def code_send_in_transaction(
    *, user, purpose: str, phone: str, registration: Registration | None = None, backend=None
) -> OneTimeCode | AccountError:
    """``code_send`` inside the caller's transaction: returns the error instead of raising it.

    The outbox row of a failed send must survive, so the caller commits and
    raises (or shows) the error afterwards.
    """
    now = timezone.now()
    # One lock per phone number serialises sends to it across accounts and processes.
    throttles.locked_row(f"sms:{phone}")
    refused_for = send_retry_after(phone, now)
    if refused_for:
        return SendRefused(retry_after=refused_for)
    code = generate_code()
    message = send_sms(
        to=phone, body=sms_body(purpose, code), purpose=purpose, user=user, secrets=[code], backend=backend
    )
    if message.status != SmsMessage.Status.SENT:
        return SmsNotSent()
    OneTimeCode.objects.filter(
        user=user, purpose=purpose, registration=registration, used_at=None, invalidated_at=None
    ).update(invalidated_at=now)
    return OneTimeCode.objects.create(
        user=user,
        purpose=purpose,
        registration=registration,
        code_hmac=code_hmac(
            user_id=user.pk, purpose=purpose, registration_id=getattr(registration, "pk", None), code=code
        ),
        sms=message,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.DAMANE_OTP_TTL_SECONDS),
    )


def code_send(*, user, purpose: str, phone: str, registration: Registration | None = None, backend=None) -> OneTimeCode:
    """Send a new code to ``phone`` for ``user`` and ``purpose``; the previous one stops working.

    Raises ``SendRefused`` (with ``retry_after``) when the number's limits are
    reached: nothing is sent. Raises ``SmsNotSent`` when the provider fails: the
    failure is in the outbox and no code exists, and no try was used.
    """
    with transaction.atomic():
        outcome = code_send_in_transaction(
            user=user, purpose=purpose, phone=phone, registration=registration, backend=backend
        )
    if isinstance(outcome, AccountError):
        raise outcome
    return outcome


def code_check_in_transaction(
    *, user, purpose: str, code: str, registration: Registration | None = None
) -> OneTimeCode | AccountError:
    """``code_verify`` inside the caller's transaction: returns the error instead of raising it."""
    now = timezone.now()
    code = (code or "").strip()
    # The account row lock serialises every try on this account: 20 parallel
    # wrong tries are 20 failures, and a code cannot be accepted twice.
    counter = throttles.locked_row(account_key(user.pk))
    locked_for = throttles.seconds_locked(counter, now)
    candidate = (
        OneTimeCode.objects.select_for_update()
        .filter(user=user, purpose=purpose, registration=registration, used_at=None, invalidated_at=None)
        .order_by("-created_at")
        .first()
    )
    expected = code_hmac(user_id=user.pk, purpose=purpose, registration_id=getattr(registration, "pk", None), code=code)
    max_tries = settings.DAMANE_OTP_MAX_TRIES_PER_CODE
    if locked_for:
        error = CodeLocked(retry_after=locked_for)
    elif candidate is None or candidate.expires_at <= now:
        error = CodeExpired()
    elif candidate.tries >= max_tries:
        error = CodeTriesExhausted()
    elif constant_time_compare(expected, candidate.code_hmac):
        candidate.used_at = now
        candidate.save(update_fields=["used_at"])
        return candidate
    else:
        candidate.tries += 1
        candidate.save(update_fields=["tries"])
        error = CodeTriesExhausted() if candidate.tries >= max_tries else CodeInvalid()
    locked_now = throttles.record_failure(
        counter,
        now=now,
        limit=settings.DAMANE_OTP_MAX_FAILURES_PER_ACCOUNT,
        window=settings.DAMANE_OTP_FAILURE_WINDOW_SECONDS,
        lock=settings.DAMANE_OTP_LOCK_SECONDS,
    )
    if locked_now and not locked_for:
        error = CodeLocked(retry_after=locked_now)
    return error


def code_verify(*, user, purpose: str, code: str, registration: Registration | None = None) -> OneTimeCode:
    """Accept ``code`` once for ``user``/``purpose``/``registration`` or raise why not.

    Every refusal counts one failure against the account, including refusals
    while it is locked; the live code also counts its own wrong tries.
    """
    with transaction.atomic():
        outcome = code_check_in_transaction(user=user, purpose=purpose, code=code, registration=registration)
    if isinstance(outcome, AccountError):
        raise outcome
    return outcome


def next_send_at(phone: str) -> datetime | None:
    """When the next SMS to ``phone`` may go, for showing a countdown; None if now."""
    now = timezone.now()
    wait = send_retry_after(phone, now)
    return now + timedelta(seconds=wait) if wait else None
