"""Domain errors of the accounts app: each carries a message a person can read."""

import math

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


def wait_message(seconds: int) -> str:
    """ "Try again in 3 minutes" / "in 40 seconds", in the active language."""
    if seconds >= 90:
        minutes = math.ceil(seconds / 60)
        return ngettext("Try again in %(count)d minute.", "Try again in %(count)d minutes.", minutes) % {
            "count": minutes
        }
    seconds = max(1, seconds)
    return ngettext("Try again in %(count)d second.", "Try again in %(count)d seconds.", seconds) % {"count": seconds}


class AccountError(Exception):
    default_message = _("This request could not be completed.")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))


class WaitError(AccountError):
    """An error that ends by itself: the message says when."""

    def __init__(self, message=None, *, retry_after: int):
        self.retry_after = retry_after
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.message} {wait_message(self.retry_after)}"


class CodeInvalid(AccountError):
    default_message = _("This code is not valid. Check the last SMS you received, or ask for a new code.")


class CodeExpired(AccountError):
    default_message = _("This code has expired or was already used. Ask for a new code.")


class CodeTriesExhausted(AccountError):
    default_message = _("Too many wrong tries for this code. Ask for a new code.")


class CodeLocked(WaitError):
    default_message = _("Too many wrong codes: for your security, code entry is locked for a while.")


class SendRefused(WaitError):
    default_message = _("A code was sent to this phone number a short while ago; no new SMS was sent.")


class SmsNotSent(AccountError):
    default_message = _(
        "The SMS could not be sent right now (our SMS provider did not answer). "
        "No attempt was used: try again in a moment."
    )


class RegistrationExpired(AccountError):
    default_message = _("This registration has expired. Please register again.")


class LoginFailed(AccountError):
    default_message = _("The CNSS number or e-mail address, or the password, is not correct.")


class LoginLocked(WaitError):
    default_message = _(
        "Too many failed attempts: for your security, logging in to this account is locked for a while. "
        "You can also reset your password by e-mail."
    )


class EmailTaken(AccountError):
    default_message = _("This e-mail address cannot be used. Choose another one.")
