"""The console's authentication backend: an organisation's contact, by username and password.

Its own keyword (``console_username``) keeps it apart from the insured and
staff logins (accounts/backends.py): neither of those forms can reach a console
account, nor this one a staff or insured account. The TOTP step follows
(``integrations.console.services.token_check``).
"""

from django.contrib.auth.backends import ModelBackend

from accounts.models import User


def console_user(username: str) -> User | None:
    return User.objects.filter(
        username=username, is_staff=False, insured__isnull=True, integrator_console__isnull=False
    ).first()


class ConsoleBackend(ModelBackend):
    def authenticate(self, request, console_username=None, password=None, **kwargs):
        if console_username is None or password is None:
            return None
        user = console_user(console_username)
        if user is None:
            User().set_password(password)  # the same time for unknown accounts
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
