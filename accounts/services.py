"""Registration, activation, login and account changes for insured persons.

Typed keyword-only functions, one transaction each, that raise an
``accounts.errors.AccountError`` with a message a person can read. Where a
refusal must still be counted (a wrong code, a wrong password), the count is
written in the transaction and the error raised once it has committed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp import match_token

from accounts import codes, throttles
from accounts import registration as registration_tasks
from accounts.errors import (
    AccountError,
    EmailTaken,
    LoginFailed,
    LoginLocked,
    RegistrationExpired,
    SendRefused,
)
from accounts.models import OneTimeCode, Registration, User
from accounts.notifications import send_notice
from accounts.sms import mask_phone
from audit.services import audit_record
from damane.background import enqueue
from registry.models import Insured
from registry.validators import normalize_cin, normalize_cnss_number

ACTIVATION = OneTimeCode.Purpose.ACTIVATION


# --- Registration -------------------------------------------------------------

STARTED = "started"  # a registration waits for its code (the SMS may have been refused or failed)
DECOY = "decoy"  # same page as STARTED, nothing sent: the account exists already, or the e-mail is taken
OUTDATED_CIN = "outdated_cin"  # the CIN is an earlier one of this person: the agency updates it
NO_PHONE = "no_phone"  # no phone declared: only the agency can help
MISMATCH = "mismatch"  # unknown CNSS number or a CIN that does not match: one answer for both


@dataclass(frozen=True)
class RegistrationResult:
    outcome: str
    registration: Registration | None = None
    insured: Insured | None = None
    phone_masked: str = ""
    # Why no SMS went out although the registration exists (SendRefused or SmsNotSent).
    send_error: AccountError | None = None


def registration_start(
    *, cnss_number: str, cin: str, email: str, password: str, ip_address: str | None = None, language: str = ""
) -> RegistrationResult:
    """Check the CNSS number / CIN pair and, when it matches, send an activation code.

    The person's phone is the one their employer declared (``Insured.phone``).
    An account already activated, or an e-mail address already used by another
    account, gets the same answer as a fresh registration (DECOY) and an e-mail
    to the owner instead of an SMS: the answer never says whether an account exists.
    """
    cnss_number = normalize_cnss_number(cnss_number)
    cin = normalize_cin(cin)
    email = email.strip()
    insured = Insured.objects.filter(cnss_number=cnss_number).first()
    if insured is None or not cin:
        return RegistrationResult(MISMATCH)
    if insured.cin != cin:
        if insured.previous_cins.filter(cin=cin).exists():
            return RegistrationResult(OUTDATED_CIN, insured=insured)
        return RegistrationResult(MISMATCH)
    if not insured.phone:
        return RegistrationResult(NO_PHONE, insured=insured)

    now = timezone.now()
    masked = mask_phone(insured.phone)
    # Every path from here does the same work: hashing the password, one
    # registration row, one task for a worker. The worker sends the SMS, or the
    # owner's e-mail for a decoy, so neither the answer nor the time it takes
    # tells whether the account or the e-mail address exists.
    password_hash = make_password(password)
    send_error = None
    with transaction.atomic():
        # One statement whether or not the account row exists yet.
        User.objects.bulk_create(
            [User(username=insured.cnss_number, insured=insured, is_active=False, password=make_password(None))],
            ignore_conflicts=True,
        )
        user = User.objects.select_for_update().get(insured=insured)
        email_owner = User.objects.filter(email__iexact=email).exclude(pk=user.pk).first() if email else None
        # Activated, created active by the agency, or disabled: never re-registered.
        decoy = user.activated_at is not None or user.is_active or email_owner is not None
        registration = Registration(
            user=user,
            email=email,
            password=password_hash,
            language=language,
            ip_address=ip_address,
            expires_at=now + timedelta(seconds=settings.DAMANE_REGISTRATION_TTL_SECONDS),
            decoy=decoy,
        )
        wait = registration_tasks.last_code_wait(user.pk, now)
        if wait:
            send_error = SendRefused(retry_after=wait)
        else:
            registration.sent_at = now
        registration.save()
        # Even when the code must wait: a decoy's owner is told at once, and the work is the same.
        enqueue(registration_tasks.send_registration_code, registration.pk, True)
    return RegistrationResult(
        DECOY if decoy else STARTED,
        registration=registration,
        insured=insured,
        phone_masked=masked,
        send_error=send_error,
    )


def registration_resend(*, registration: Registration) -> Registration:
    """A new activation code for a registration that is still open (a decoy's is only pretended).

    Raises ``RegistrationExpired``, or ``SendRefused`` within a minute of the last code.
    """
    now = timezone.now()
    with transaction.atomic():
        registration = Registration.objects.select_for_update().get(pk=registration.pk)
        if registration.completed_at or registration.expires_at <= now:
            raise RegistrationExpired()
        wait = registration_tasks.resend_wait(registration, now)
        if wait:
            error = SendRefused(retry_after=wait)
        else:
            error = None
            registration.sent_at = now
            registration.tries = 0
            registration.save(update_fields=["sent_at", "tries"])
            enqueue(registration_tasks.send_registration_code, registration.pk, False)
    if error is not None:
        raise error
    return registration


def registration_activate(*, registration: Registration, code: str, ip_address: str | None = None) -> User:
    """Check the activation code and, if right, activate the account with this registration's e-mail and password.

    Every answer but success comes from the registration row and the account's
    failure counter, so a decoy answers exactly as a real registration; only a
    right code reads the real one (which a decoy never has).
    """
    now = timezone.now()
    with transaction.atomic():
        registration = Registration.objects.select_for_update().get(pk=registration.pk)
        if registration.completed_at or registration.expires_at <= now:
            raise RegistrationExpired()
        counter = throttles.locked_row(codes.account_key(registration.user_id))
        candidate, error = codes.held_code_check(
            holder=registration,
            tries_fields=["tries"],
            live=OneTimeCode.objects.filter(
                user_id=registration.user_id,
                purpose=ACTIVATION,
                registration=registration,
                used_at=None,
                invalidated_at=None,
            ).exclude(code_hmac=""),
            expected=codes.code_hmac(
                user_id=registration.user_id,
                purpose=ACTIVATION,
                registration_id=registration.pk,
                code=(code or "").strip(),
            ),
            locked_for=throttles.seconds_locked(counter, now),
            state_error=registration_tasks.code_state_error(registration, now),
            usable=lambda candidate: not registration.decoy,
            counter=counter,
            now=now,
        )
        if candidate is not None:
            candidate.used_at = now
            candidate.save(update_fields=["used_at"])
            user = User.objects.select_for_update().get(pk=registration.user_id)
            if user.activated_at is not None:
                error = RegistrationExpired()
            elif User.objects.filter(email__iexact=registration.email).exclude(pk=user.pk).exists():
                error = EmailTaken(
                    _("This e-mail address is now used by another account. Register again with another address.")
                )
            else:
                return _activate(user, registration, now=now, ip_address=ip_address)
    raise error


def _activate(user: User, registration: Registration, *, now, ip_address) -> User:
    user.email = registration.email
    user.password = registration.password
    user.language = registration.language
    user.is_active = True
    user.activated_at = now
    try:
        # The unique e-mail constraint is the last word when two activations race for one address.
        with transaction.atomic():
            user.save(update_fields=["email", "password", "language", "is_active", "activated_at"])
    except IntegrityError:
        raise EmailTaken() from None
    registration.completed_at = now
    registration.save(update_fields=["completed_at"])
    # Other open registrations for this account end here, with their codes.
    Registration.objects.filter(user=user, completed_at=None).exclude(pk=registration.pk).update(expires_at=now)
    OneTimeCode.objects.filter(user=user, purpose=ACTIVATION, used_at=None, invalidated_at=None).update(
        invalidated_at=now
    )
    audit_record(
        action="accounts.user.activated",
        obj=user,
        actor=user,
        insured=user.insured,
        after={"email": user.email},
        ip_address=ip_address,
    )
    return user


# --- Login --------------------------------------------------------------------

_CNSS_RE = re.compile(r"^\d{9}$")


def mask_cnss_number(cnss_number: str) -> str:
    return "•" * 6 + cnss_number[-3:]


def find_insured_account(identifier: str) -> User | None:
    """The insured account a login identifier (CNSS number or e-mail) names, activated or not."""
    identifier = (identifier or "").strip()
    accounts = User.objects.filter(insured__isnull=False, is_staff=False)
    cnss_number = normalize_cnss_number(identifier)
    if _CNSS_RE.match(cnss_number):
        return accounts.filter(username=cnss_number).first()
    if "@" in identifier:
        return accounts.filter(email__iexact=identifier).first()
    return None


def login_throttle_key(prefix: str, user: User | None, identifier: str) -> str:
    """Failures count per account when the identifier names one, else per identifier.

    Unknown identifiers lock exactly like real accounts, so a lock never reveals
    that an account exists; and the CNSS number and e-mail of one account share
    one count.
    """
    if user is not None:
        return f"{prefix}:user:{user.pk}"
    digest = hashlib.sha256(identifier.strip().lower().encode()).hexdigest()[:40]
    return f"{prefix}:id:{digest}"


def checked_login(*, key: str, attempt) -> User:
    """Run ``attempt()`` (returns a user or None) under the failure counter ``key``."""
    now = timezone.now()
    error = None
    with transaction.atomic():
        row = throttles.locked_row(key)
        locked_for = throttles.seconds_locked(row, now)
        if locked_for:
            error = LoginLocked(retry_after=locked_for)
        else:
            user = attempt()
            if user is not None:
                row.delete()
                return user
            locked_for = throttles.record_failure(
                row,
                now=now,
                limit=settings.DAMANE_LOGIN_MAX_FAILURES,
                window=settings.DAMANE_LOGIN_FAILURE_WINDOW_SECONDS,
                lock=settings.DAMANE_LOGIN_LOCK_SECONDS,
            )
            error = LoginLocked(retry_after=locked_for) if locked_for else LoginFailed()
    raise error


def totp_check(*, prefix: str, user: User, token: str):
    """The confirmed TOTP device that accepts ``token`` for ``user``, or ``LoginFailed`` / ``LoginLocked``.

    The second step of a staff login (prefix ``staff``) and of an integrator's
    console login (``console``): wrong codes count on the account's own counter
    of that login, as wrong passwords do.
    """
    token = "".join((token or "").split())
    matched = {}

    def attempt():
        device = match_token(user, token) if token.isdigit() else None
        matched["device"] = device
        return user if device is not None else None

    checked_login(key=login_throttle_key(prefix, user, ""), attempt=attempt)
    return matched["device"]


def login_check(*, request, identifier: str, password: str) -> User:
    """The insured account for this CNSS number or e-mail and password, or ``LoginFailed`` / ``LoginLocked``.

    5 failures in 10 minutes lock for 10 minutes (docs/security.md §8). Accounts not
    yet activated, disabled accounts and staff accounts fail like a wrong password.
    """
    identifier = (identifier or "").strip()
    key = login_throttle_key("login", find_insured_account(identifier), identifier)
    return checked_login(key=key, attempt=lambda: authenticate(request, identifier=identifier, password=password))


def login_unlock(*, user: User) -> None:
    throttles.clear(login_throttle_key("login", user, ""))


# --- Changes by the account owner (docs/security.md §10) -----------------------------


def email_change(*, user: User, new_email: str, ip_address: str | None = None) -> User:
    """Replace the e-mail address (the form has checked the current password) and tell both addresses."""
    new_email = new_email.strip()
    old_email = user.email
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
            raise EmailTaken()
        user.email = new_email
        try:
            with transaction.atomic():
                user.save(update_fields=["email"])
        except IntegrityError:
            raise EmailTaken() from None
        audit_record(
            action="accounts.user.email_changed",
            obj=user,
            actor=user,
            insured=user.insured,
            before={"email": old_email},
            after={"email": new_email},
            ip_address=ip_address,
        )
        context = {"old_email": old_email, "new_email": new_email}
        send_notice(to=old_email, template="email_changed", context=context, language=user.language, user=user)
        if new_email.lower() != old_email.lower():
            send_notice(to=new_email, template="email_changed", context=context, language=user.language, user=user)
    return user


def password_change(*, user: User, new_password: str, ip_address: str | None = None) -> User:
    """Set a new password (the form has checked the current one, or the reset link) and tell the owner."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit_record(
            action="accounts.user.password_changed", obj=user, actor=user, insured=user.insured, ip_address=ip_address
        )
        # A new password is the way out of a login lock.
        login_unlock(user=user)
        send_notice(to=user.email, template="password_changed", language=user.language, user=user)
    return user
