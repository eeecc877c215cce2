"""Attestation de périodes d'assurance (convention): a certificate kind only the International Treaties service issues.

Its facts are built by ``treaties.services.treaty_facts`` from an approved
version of the foreign periods, so it has no rules of its own (``evaluate`` is
None: the insured cannot ask for it online). The treaties app registers it into
certificates.registry from ``TreatiesConfig.ready`` (docs/certificates.md,
"Adding a certificate kind").
"""

from pathlib import Path

from django.utils.translation import pgettext_lazy

from certificates.registry import Kind

from . import document, presenter
from .facts import TreatyPeriodsFacts


def _sample():
    from .sample import sample

    return sample()


KIND = Kind(
    value="treaty_periods",
    label=pgettext_lazy("certificate kind", "Insurance periods certificate (treaty)"),
    code="T",
    number_prefix="CT",
    facts_type=TreatyPeriodsFacts,
    directory=Path(__file__).resolve().parent,
    qr_facts=presenter.qr_facts,
    present=presenter.present,
    pdf_context=document.pdf_context,
    sample=_sample,
)
