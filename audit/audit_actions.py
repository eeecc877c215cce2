"""The audit trail's own audit actions (audit/actions.py)."""

from django.utils.translation import gettext_lazy as _

from audit.actions import register

register("audit.trail.exported", _("Audit trail exported"))
