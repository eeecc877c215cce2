from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class MaximumLengthValidator:
    """Refuse passwords longer than ``max_length`` characters (docs/security.md §7)."""

    def __init__(self, max_length: int = 128):
        self.max_length = max_length

    def validate(self, password, user=None):
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "This password is too long: use at most %(max_length)d character.",
                    "This password is too long: use at most %(max_length)d characters.",
                    self.max_length,
                ),
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self):
        return _("Use at most %(max_length)d characters.") % {"max_length": self.max_length}


# Django's own validators, with messages in plain words that our catalogs translate
# (Django 5.2's Arabic catalog lacks the new too-short message, which then shows in
# French or English inside an Arabic page).


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def get_error_message(self):
        return ngettext(
            "This password is too short: use at least %(min_length)d character.",
            "This password is too short: use at least %(min_length)d characters.",
            self.min_length,
        ) % {"min_length": self.min_length}

    def get_help_text(self):
        return ngettext(
            "Use at least %(min_length)d character.", "Use at least %(min_length)d characters.", self.min_length
        ) % {"min_length": self.min_length}


class UserAttributeSimilarityValidator(password_validation.UserAttributeSimilarityValidator):
    def get_error_message(self):
        return _("This password looks too much like your CNSS number or your e-mail address. Choose another one.")

    def get_help_text(self):
        return _("Do not use your CNSS number or your e-mail address.")


class CommonPasswordValidator(password_validation.CommonPasswordValidator):
    def get_error_message(self):
        return _("Many people use this password, so it is easy to guess. Choose another one.")

    def get_help_text(self):
        return _("Do not use a password that many people use.")


class NumericPasswordValidator(password_validation.NumericPasswordValidator):
    def get_error_message(self):
        return _("This password has only digits. Add some words.")

    def get_help_text(self):
        return _("Do not use only digits.")
