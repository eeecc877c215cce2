"""The audit actions of the registry (audit/actions.py)."""

from django.utils.translation import gettext_lazy as _

from audit.actions import register

register("registry.insured.registered", _("Insured person added to the registry"))
register("registry.insured.updated", _("Insured person updated in the registry"))
register("registry.employer.updated", _("Employer updated"))
