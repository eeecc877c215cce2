"""The console's writes: its accounts, and the two login steps (password, then TOTP).

Both steps count failures under the per-account lock of every login
(``accounts.services.checked_login``), under their own ``console:`` keys.
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.services import checked_login, login_throttle_key, totp_check
from audit.services import audit_record
from integrations.console.backends import console_user
from integrations.console.models import ConsoleAccount


def password_check(*, request, username: str, password: str) -> User:
    """The console account for this username and password, or ``LoginFailed`` / ``LoginLocked``."""
    username = (username or "").strip()
    key = login_throttle_key("console", console_user(username), username)
    return checked_login(key=key, attempt=lambda: authenticate(request, console_username=username, password=password))


def token_check(*, user: User, token: str):
    """The second step of the console login (``accounts.services.totp_check``)."""
    return totp_check(prefix="console", user=user, token=token)


def account_create(*, organisation, username: str, email: str, password: str, actor=None) -> tuple[User, TOTPDevice]:
    """A console account for ``organisation``'s contact, with a confirmed TOTP device (its URI goes to their app)."""
    with transaction.atomic():
        user = User.objects.create_user(username=username, email=email, password=password)
        ConsoleAccount.objects.create(user=user, organisation=organisation)
        device = TOTPDevice.objects.create(user=user, name="console", confirmed=True)
        audit_record(
            action="integrations.console_account.created",
            obj=user,
            actor=actor,
            after={"organisation": organisation.pk, "username": username},
        )
    return user, device
