"""One-time SMS codes (docs/security.md §1-5).

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

Sending is background work (docs/operations.md): ``code_send`` records the SMS as
``queued`` and a Celery task, enqueued when the transaction commits, calls
``code_deliver``. The worker draws the code, stores its HMAC and hands the text
to the provider; the previous code keeps working until the new one is sent. A
provider that certainly did not take the message is tried again with backoff; a
message that may have gone (a timeout once the request was sent, a worker killed
mid-send) is never sent twice: it is marked failed, its code stays valid in case
it arrived, and the person can ask for a new one.
"""

from __future__ import annotations

import logging
import math
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
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
)
from accounts.models import OneTimeCode, Registration, SmsMessage
from accounts.sms import get_backend
from accounts.sms.backends.base import SmsBackendError
from damane.background import enqueue, last_attempt, outbox_claim_stale, retry_delay
from damane.metrics import SMS_SENDS

logger = logging.getLogger("accounts.sms")

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


# Sends that count against a number's limits: all but those that certainly failed.
COUNTED = (SmsMessage.Status.QUEUED, SmsMessage.Status.SENDING, SmsMessage.Status.SENT)


def send_retry_after(phone: str, now: datetime) -> int:
    """Seconds before another SMS may go to ``phone``; 0 if it may go now."""
    sent = SmsMessage.objects.filter(to=phone, status__in=COUNTED)
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
    *, user, purpose: str, phone: str, registration: Registration | None = None
) -> OneTimeCode | AccountError:
    """``code_send`` inside the caller's transaction: returns the error instead of raising it.

    The SMS task is enqueued when the caller's transaction commits.
    """
    from accounts import tasks

    now = timezone.now()
    # One lock per phone number serialises sends to it across accounts and processes.
    throttles.locked_row(f"sms:{phone}")
    refused_for = send_retry_after(phone, now)
    if refused_for:
        return SendRefused(retry_after=refused_for)
    message = SmsMessage.objects.create(
        to=phone,
        body=sms_body(purpose, "•" * settings.DAMANE_OTP_DIGITS),
        purpose=purpose,
        user=user,
        language=translation.get_language() or "",
        status=SmsMessage.Status.QUEUED,
    )
    # No code yet: the worker draws it. An empty HMAC never matches.
    code = OneTimeCode.objects.create(
        user=user,
        purpose=purpose,
        registration=registration,
        code_hmac="",
        sms=message,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.DAMANE_OTP_TTL_SECONDS),
    )
    enqueue(tasks.send_code_sms, message.pk)
    return code


def code_send(*, user, purpose: str, phone: str, registration: Registration | None = None) -> OneTimeCode:
    """Queue a new code for ``phone``, for ``user`` and ``purpose``; it replaces the previous one once sent.

    The entry point for every SMS code (activation, recovery, phone change).
    Raises ``SendRefused`` (with ``retry_after``) when the number's limits are
    reached: nothing is queued. The SMS goes from a worker; its outbox row
    (``OneTimeCode.sms``) says whether it is queued, sent or failed.
    """
    with transaction.atomic():
        outcome = code_send_in_transaction(user=user, purpose=purpose, phone=phone, registration=registration)
    if isinstance(outcome, AccountError):
        raise outcome
    return outcome


def code_deliver(*, sms_id: int, final_attempt: bool = True) -> str:
    """Send the queued SMS ``sms_id``: draw its code, store the HMAC, hand the text to the provider.

    Returns the message's status afterwards. Idempotent: a message that is not
    ``queued`` is not sent again. One found ``sending`` is being sent by another
    delivery of the same task (the broker delivered it twice) and is left alone;
    only once claimed longer than any provider takes
    (``DAMANE_OUTBOX_STUCK_AFTER_SECONDS``) did its attempt die, and it is closed
    as failed, delivery unknown, without a second SMS. When the provider
    certainly did not take the message, the message is queued again with its
    ``next_attempt_at`` (the outbox sweep sends it then), its code unusable and
    the previous code still valid; the last attempt (``final_attempt``, or the
    ``DAMANE_TASK_MAX_RETRIES``-th retry) records the failure instead.
    """
    with transaction.atomic():
        message = SmsMessage.objects.select_for_update().filter(pk=sms_id).first()
        if message is None:
            return "missing"
        code_row = OneTimeCode.objects.select_for_update().filter(sms=message).first()
        if message.status == SmsMessage.Status.SENDING:
            if not outbox_claim_stale(message.claimed_at):
                # Another delivery is sending it now: never mark it failed under its feet.
                logger.info("SMS %s: already being sent by another attempt; left alone", message.pk)
                return message.status
            # An attempt handed the text over and died before recording the answer:
            # it may have arrived. Its code stays valid; nothing is sent again.
            _finish(message, SmsMessage.Status.FAILED, error="interrupted while sending: delivery unknown")
            logger.warning("SMS %s: an earlier attempt was interrupted; not sent again", message.pk)
            SMS_SENDS.labels(outcome="interrupted").inc()
            return message.status
        if message.status != SmsMessage.Status.QUEUED:
            return message.status
        if code_row is None or code_row.used_at or code_row.invalidated_at:
            _finish(message, SmsMessage.Status.FAILED, error="no live code to send")
            return message.status
        backend = get_backend()
        code = generate_code()
        now = timezone.now()
        code_row.code_hmac = code_hmac(
            user_id=code_row.user_id, purpose=code_row.purpose, registration_id=code_row.registration_id, code=code
        )
        code_row.created_at = now
        code_row.expires_at = now + timedelta(seconds=settings.DAMANE_OTP_TTL_SECONDS)
        code_row.save(update_fields=["code_hmac", "created_at", "expires_at"])
        message.status = SmsMessage.Status.SENDING
        message.attempts += 1
        message.claimed_at = now
        message.next_attempt_at = None
        message.backend = backend.name[:20]
        message.save(update_fields=["status", "attempts", "claimed_at", "next_attempt_at", "backend"])
    # Committed: from here a killed worker leaves the message "sending".
    with translation.override(message.language or settings.LANGUAGE_CODE):
        body = sms_body(message.purpose, code)
    try:
        provider_id = backend.send(to=message.to, body=body)
    except SmsBackendError as exc:
        error = str(exc)[:2000]
        logger.warning("SMS %s (%s) failed, attempt %s: %s", message.pk, message.purpose, message.attempts, error)
        retry = exc.retryable and not final_attempt and not last_attempt(message.attempts)
        SMS_SENDS.labels(outcome="unknown" if exc.delivery_unknown else "retry" if retry else "failed").inc()
        with transaction.atomic():
            if not exc.delivery_unknown:
                # The code never left: it must not be guessable for ever.
                OneTimeCode.objects.filter(pk=code_row.pk).update(code_hmac="")
            if retry:
                message.next_attempt_at = timezone.now() + retry_delay(message.attempts)
                message.save(update_fields=["next_attempt_at"])
            _finish(message, SmsMessage.Status.QUEUED if retry else SmsMessage.Status.FAILED, error=error)
        return message.status
    with transaction.atomic():
        _finish(message, SmsMessage.Status.SENT, provider_id=provider_id or "")
        # The new code is out: the earlier ones stop working.
        OneTimeCode.objects.filter(
            user_id=code_row.user_id,
            purpose=code_row.purpose,
            registration_id=code_row.registration_id,
            used_at=None,
            invalidated_at=None,
        ).exclude(pk=code_row.pk).update(invalidated_at=timezone.now())
    SMS_SENDS.labels(outcome="sent").inc()
    logger.info("SMS %s (%s) sent, provider id %s", message.pk, message.purpose, provider_id)
    return message.status


def _finish(message: SmsMessage, status: str, *, error: str = "", provider_id: str = "") -> None:
    message.status = status
    message.error = str(error)
    message.provider_id = provider_id
    message.sent_at = timezone.now() if status == SmsMessage.Status.SENT else None
    message.save(update_fields=["status", "error", "provider_id", "sent_at"])


def code_status(code: OneTimeCode | None) -> str:
    """What to tell the person about the SMS of ``code``: queued, sent or failed."""
    if code is None or code.sms is None:
        return SmsMessage.Status.FAILED
    if code.sms.status == SmsMessage.Status.SENDING:
        return SmsMessage.Status.QUEUED
    return code.sms.status


def _failure(counter, *, now, locked_for: int, error: AccountError) -> AccountError:
    """Count one failure on the account's ``counter``; the lock it starts replaces ``error``."""
    locked_now = throttles.record_failure(
        counter,
        now=now,
        limit=settings.DAMANE_OTP_MAX_FAILURES_PER_ACCOUNT,
        window=settings.DAMANE_OTP_FAILURE_WINDOW_SECONDS,
        lock=settings.DAMANE_OTP_LOCK_SECONDS,
    )
    return CodeLocked(retry_after=locked_now) if locked_now and not locked_for else error


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
        .exclude(code_hmac="")
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
    return _failure(counter, now=now, locked_for=locked_for, error=error)


def held_code_check(
    *, holder, tries_fields: list[str], live, expected: str, locked_for: int, state_error, usable, counter, now
) -> tuple[OneTimeCode | None, AccountError | None]:
    """The code check of the anonymous flows (activation, recovery by SMS), inside their transaction.

    ``holder`` is the flow's locked row (a ``Registration``, a ``RecoveryRequest``),
    which counts the tries whether or not it names a real account, so a made-up
    identity walks the same states (docs/security.md §26); ``live`` the codes that
    could match (none for a made-up one); ``expected`` the HMAC of what was typed;
    ``state_error`` why no code can be accepted whatever was typed (or None);
    ``usable(candidate)`` the flow's last word on a right code. Returns
    ``(candidate, None)`` for a right, live, usable code, which the caller marks
    used with its own effect; otherwise counts one failure on the holder, the live
    code and the account's counter (``counter``, locked by the caller) and returns
    ``(None, error)``.
    """
    max_tries = settings.DAMANE_OTP_MAX_TRIES_PER_CODE
    candidate = live.select_for_update().order_by("-created_at").first()
    right = constant_time_compare(expected, candidate.code_hmac if candidate else "")
    error = CodeLocked(retry_after=locked_for) if locked_for else state_error
    if error is None and right and candidate.expires_at > now and candidate.tries < max_tries and usable(candidate):
        return candidate, None
    if error is None:
        holder.tries += 1
        holder.save(update_fields=tries_fields)
        # The real code counts its own tries too (docs/security.md §3); a made-up identity has none.
        live.update(tries=F("tries") + 1)
        error = CodeTriesExhausted() if holder.tries >= max_tries else CodeInvalid()
    return None, _failure(counter, now=now, locked_for=locked_for, error=error)


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
