"""The audit actions of arrears alerts (audit/actions.py)."""

from django.utils.translation import gettext_lazy as _

from audit.actions import register

register("alerts.arrears.opted_in", _("Arrears alerts turned on"))
register("alerts.arrears.opted_out", _("Arrears alerts turned off"))
register("alerts.arrears.sent", _("Arrears alert sent"))
