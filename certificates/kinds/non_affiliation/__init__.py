"""Attestation de non-affiliation: one certificate kind.

Registered in certificates.registry by certificates/kinds/__init__.py (docs/certificates.md,
"Adding a certificate kind").
"""

from pathlib import Path

from django.utils.translation import gettext_lazy, pgettext_lazy

from certificates.registry import Kind

from . import presenter, rules
from .facts import NonAffiliationFacts

KIND = Kind(
    value="non_affiliation",
    label=pgettext_lazy("certificate kind", "Non-affiliation certificate"),
    code="N",
    number_prefix="NA",
    facts_type=NonAffiliationFacts,
    directory=Path(__file__).resolve().parent,
    evaluate=rules.evaluate,
    qr_facts=presenter.qr_facts,
    present=presenter.present,
    description=gettext_lazy(
        "States that no salaried activity was declared for you over the last 12 months (AMO Achamil)."
    ),
)
