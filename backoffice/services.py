"""Staff login: password, then a TOTP code from a confirmed django-otp device (SECURITY.md 11).

Both steps count failures under the same per-account lock as insured logins
(5 in 10 minutes, then 10 minutes), under their own ``staff:`` keys.
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from django_otp import match_token

from accounts.models import User
from accounts.services import checked_login, login_throttle_key


def find_staff_account(username: str) -> User | None:
    return User.objects.filter(username=username, is_staff=True, insured__isnull=True).first()


def staff_password_check(*, request, username: str, password: str) -> User:
    """The staff account for this username and password, or ``LoginFailed`` / ``LoginLocked``."""
    username = (username or "").strip()
    key = login_throttle_key("staff", find_staff_account(username), username)
    return checked_login(key=key, attempt=lambda: authenticate(request, staff_username=username, password=password))


def staff_token_check(*, user: User, token: str):
    """The OTP device that accepts ``token`` for ``user``, or ``LoginFailed`` / ``LoginLocked``."""
    token = "".join((token or "").split())
    matched = {}

    def attempt():
        device = match_token(user, token) if token.isdigit() else None
        matched["device"] = device
        return user if device is not None else None

    checked_login(key=login_throttle_key("staff", user, ""), attempt=attempt)
    return matched["device"]
