"""The audit actions of certificates (audit/actions.py)."""

from django.utils.translation import gettext_lazy as _

from audit.actions import register

register("certificates.certificate.issued", _("Certificate issued"))
register("certificates.certificate.revoked", _("Certificate revoked"))
