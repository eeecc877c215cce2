"""The audit actions of insured accounts (audit/actions.py)."""

from django.utils.translation import gettext_lazy as _

from audit.actions import register

register("accounts.user.activated", _("Account activated"))
register("accounts.user.email_changed", _("E-mail address changed"))
register("accounts.user.password_changed", _("Password changed"))
register("accounts.user.recovered_by_sms", _("Account recovered with an SMS code"))
