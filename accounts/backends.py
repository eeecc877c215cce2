"""Authentication backends: one for insured persons, one for staff, never crossing.

Each takes its own keyword (``identifier`` / ``staff_username``), so Django's
``authenticate()`` only reaches the backend the calling form means: the public
login cannot authenticate a staff account, nor the staff login an insured one.
Sessions are reloaded by ModelBackend's ``get_user``; what a session may reach
is checked by the views (``insured_required``, ``staff_required``), and staff
pages also require a verified TOTP device.
"""

from django.contrib.auth.backends import ModelBackend

from accounts.models import User


def _equalise_timing(password: str) -> None:
    # Hashing for unknown accounts too keeps response times alike (as ModelBackend does).
    User().set_password(password)


class InsuredBackend(ModelBackend):
    def authenticate(self, request, identifier=None, password=None, **kwargs):
        from accounts.services import find_insured_account

        if identifier is None or password is None:
            return None
        user = find_insured_account(identifier)
        if user is None:
            _equalise_timing(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


class StaffBackend(ModelBackend):
    def authenticate(self, request, staff_username=None, password=None, **kwargs):
        if staff_username is None or password is None:
            return None
        user = User.objects.filter(username=staff_username, is_staff=True, insured__isnull=True).first()
        if user is None:
            _equalise_timing(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
