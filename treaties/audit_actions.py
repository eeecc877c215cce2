"""The audit actions of the International Treaties service (audit/actions.py)."""

from django.utils.translation import gettext_lazy as _

from audit.actions import register

register("treaties.request.viewed", _("Treaty request viewed"))
register("treaties.periods.recorded", _("Foreign periods recorded"))
register("treaties.periods.approved", _("Foreign periods approved"))
register("treaties.periods.rejected", _("Foreign periods rejected"))
register("treaties.certificate.issued", _("Cumulative periods certificate issued"))
