"""Account recovery by SMS, for workers without access to their e-mail (docs/accounts.md).

The person types a CNSS number and a CIN; a code goes to the phone the employer
declared, then the person types the code and a new password. The form is
anonymous and names a person, so it must answer a made-up pair exactly as a real
one (docs/security.md §6): the same pages, messages, queries and time.

Everything a stranger can see comes from one ``RecoveryRequest`` row per pair,
which exists for made-up pairs too: when a code "goes" (at most one a minute per
pair), how many wrong tries it has had, whether it was used or has expired. A
failure counter per pair locks code entry after 10 wrong codes. The real ``OneTimeCode`` is only read to accept a
right code; the SMS itself is sent by a worker (``send_recovery_code``), so the
request does the same work whether or not the pair names an account.

Only once the code is right is the new password checked against the account
(too close to the CNSS number or the e-mail): before that, the password is
checked only by the rules that do not depend on any account.
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.views.decorators.debug import sensitive_variables

from accounts import codes, throttles
from accounts.errors import (
    AccountError,
    CodeExpired,
    CodeTriesExhausted,
)
from accounts.models import OneTimeCode, RecoveryRequest, User
from audit.services import audit_record
from damane.background import enqueue
from registry.validators import normalize_cin, normalize_cnss_number

logger = logging.getLogger("accounts.recovery")

RECOVERY = OneTimeCode.Purpose.RECOVERY
_PAIR_SALT = "damane.accounts.recovery-pair"


class PasswordRefused(AccountError):
    """The code was right but the new password is too close to the account: nothing was used up."""

    def __init__(self, error: ValidationError):
        self.error = error
        super().__init__("; ".join(error.messages))


# --- Pure rules -------------------------------------------------------------------


def pair_key(cnss_number: str, cin: str) -> str:
    """An HMAC of the normalised pair: the row names the pair without holding it."""
    secret = settings.DAMANE_OTP_KEY or settings.SECRET_KEY
    value = f"{normalize_cnss_number(cnss_number)}:{normalize_cin(cin)}"
    return salted_hmac(_PAIR_SALT, value, secret=secret, algorithm="sha256").hexdigest()


def counter_key(request: RecoveryRequest) -> str:
    """Wrong recovery codes count per pair, whether or not it names an account.

    Not on the account's counter (``otp:user:<id>``): a stranger can add to that one
    through the activation page of a decoy registration, and a lock coming sooner
    would tell that the pair has an account. A pair names at most one account, so
    this is still 10 wrong codes per account in 10 minutes (docs/security.md §3).
    """
    return f"otp:recovery:{request.key}"


def may_send(request: RecoveryRequest, now) -> bool:
    """A new code "goes" for the pair at most once per SMS spacing, whether or not the pair is real."""
    spacing = timedelta(seconds=settings.DAMANE_SMS_MIN_INTERVAL_SECONDS)
    return request.sent_at is None or now >= request.sent_at + spacing


def resend_wait(request: RecoveryRequest | None, now) -> int:
    """Seconds before starting again can send a new code (the page's countdown); 0: now."""
    if request is None or may_send(request, now):
        return 0
    spacing = timedelta(seconds=settings.DAMANE_SMS_MIN_INTERVAL_SECONDS)
    return max(0, math.ceil((request.sent_at + spacing - now).total_seconds()))


def code_state_error(request: RecoveryRequest, now) -> AccountError | None:
    """Why the pair's current code cannot be accepted whatever was typed, or None while it is live."""
    ttl = timedelta(seconds=settings.DAMANE_OTP_TTL_SECONDS)
    if request.sent_at is None or request.used_at is not None or request.sent_at + ttl <= now:
        return CodeExpired()
    if request.tries >= settings.DAMANE_OTP_MAX_TRIES_PER_CODE:
        return CodeTriesExhausted()
    return None


# --- Services -----------------------------------------------------------------------


def recovery_account(*, cnss_number: str, cin: str) -> User | None:
    """The activated, active insured account of this CNSS number / CIN pair that has a declared phone, or None."""
    cnss_number = normalize_cnss_number(cnss_number)
    cin = normalize_cin(cin)
    return (
        User.objects.filter(
            insured__cnss_number=cnss_number,
            insured__cin=cin or "-",
            is_active=True,
            is_staff=False,
            activated_at__isnull=False,
        )
        .exclude(insured__phone="")
        .first()
    )


def recovery_request(*, cnss_number: str, cin: str) -> RecoveryRequest:
    """Record that recovery was asked for this pair and, at most once a minute, have a code sent.

    The same queries and the same task whether or not the pair names an account:
    the worker finds out, and only it sends an SMS.
    """
    key = pair_key(cnss_number, cin)
    user = recovery_account(cnss_number=cnss_number, cin=cin)
    now = timezone.now()
    with transaction.atomic():
        RecoveryRequest.objects.get_or_create(key=key)
        request = RecoveryRequest.objects.select_for_update().get(key=key)
        request.user = user
        if may_send(request, now):
            request.sent_at = now
            request.tries = 0
            request.used_at = None
            enqueue(send_recovery_code, request.pk)
        request.save()
    return request


def recovery_request_for(request_id) -> RecoveryRequest | None:
    return RecoveryRequest.objects.filter(pk=request_id).first() if isinstance(request_id, int) else None


@sensitive_variables("code", "new_password")
def recovery_complete(*, request_id: int, code: str, new_password: str, ip_address: str | None = None) -> User:
    """Check the code first; only a right code lets the new password be checked against the account and set.

    Raises ``CodeInvalid`` / ``CodeTriesExhausted`` / ``CodeExpired`` /
    ``CodeLocked`` from the pair's row and counter alone (every refusal counts
    one failure, through ``codes.held_code_check`` as activation does), or ``PasswordRefused`` when the
    code is right and the password too close to the account (nothing counted,
    the code still valid).
    """
    now = timezone.now()
    with transaction.atomic():
        request = (
            RecoveryRequest.objects.select_for_update(of=("self",)).select_related("user").filter(pk=request_id).first()
        )
        if request is None:
            raise CodeExpired()
        counter = throttles.locked_row(counter_key(request))
        candidate, error = codes.held_code_check(
            holder=request,
            tries_fields=["tries", "updated_at"],
            live=OneTimeCode.objects.filter(
                user_id=request.user_id, purpose=RECOVERY, used_at=None, invalidated_at=None
            ).exclude(code_hmac=""),
            expected=codes.code_hmac(
                user_id=request.user_id or 0, purpose=RECOVERY, registration_id=None, code=(code or "").strip()
            ),
            locked_for=throttles.seconds_locked(counter, now),
            state_error=code_state_error(request, now),
            usable=lambda candidate: request.user.is_active,
            counter=counter,
            now=now,
        )
        if candidate is not None:
            user = request.user
            try:
                password_validation.validate_password(new_password, user)
            except ValidationError as exc:
                # Rolls back nothing but says why: the code stays valid, nothing counted.
                raise PasswordRefused(exc) from None
            candidate.used_at = now
            candidate.save(update_fields=["used_at"])
            request.used_at = now
            request.save(update_fields=["used_at", "updated_at"])
            from accounts.services import password_change

            user = password_change(user=user, new_password=new_password, ip_address=ip_address)
            audit_record(
                action="accounts.user.recovered_by_sms",
                obj=user,
                actor=user,
                insured=user.insured,
                ip_address=ip_address,
            )
            return user
    raise error


# --- Background work -----------------------------------------------------------------


@shared_task
def send_recovery_code(request_id: int) -> str:
    """The worker's half of ``recovery_request``: queue the SMS when the pair names an account.

    The phone's own limits (60 s, 5 an hour, 10 a day, across purposes and
    accounts) apply here; a refused send is logged and sends nothing: the page
    already told the person to start again after a minute if no SMS came.
    """
    request = RecoveryRequest.objects.select_related("user__insured").filter(pk=request_id).first()
    if request is None or request.user is None or not request.user.is_active:
        return "none"
    try:
        codes.code_send(user=request.user, purpose=RECOVERY, phone=request.user.insured.phone)
    except AccountError as exc:
        logger.info("recovery SMS for user %s not queued: %s", request.user_id, type(exc).__name__)
        return "refused"
    return "queued"


def recovery_requests_prune(*, now=None) -> int:
    """Delete the rows of pairs nobody has typed for a day; return how many went.

    Every state a row can show a stranger (the spacing between codes, a live
    code, its tries, the per-pair counter) is over within minutes, so a pair
    typed again after a day starts from a fresh row, as a never-seen pair does:
    pruning tells nothing, and made-up pairs no longer pile up (beat, daily).
    """
    now = now or timezone.now()
    deleted, _by_model = RecoveryRequest.objects.filter(updated_at__lt=now - timedelta(days=1)).delete()
    return deleted
