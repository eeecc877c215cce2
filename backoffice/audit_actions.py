"""The audit actions of the agency's screens (audit/actions.py)."""

from django.utils.translation import gettext_lazy as _

from audit.actions import register

register("backoffice.insured.viewed", _("Insured person's record viewed"))
register("backoffice.certificate.downloaded", _("Certificate PDF downloaded by staff"))
register("backoffice.identity_change.proposed", _("Identity change proposed"))
register("backoffice.identity_change.approved", _("Identity change approved"))
register("backoffice.identity_change.rejected", _("Identity change rejected"))
# Written when an approved identity change is applied to the registry record.
register("registry.insured.identity_changed", _("Identity changed in the registry"))
