"""Attestation d'affiliation: one certificate kind.

Registered in certificates.registry by certificates/kinds/__init__.py (docs/certificates.md,
"Adding a certificate kind").
"""

from pathlib import Path

from django.utils.translation import gettext_lazy, pgettext_lazy

from certificates.registry import Kind

from . import presenter, rules
from .facts import AffiliationFacts

KIND = Kind(
    value="affiliation",
    label=pgettext_lazy("certificate kind", "Affiliation certificate"),
    code="A",
    number_prefix="AF",
    facts_type=AffiliationFacts,
    directory=Path(__file__).resolve().parent,
    evaluate=rules.evaluate,
    qr_facts=presenter.qr_facts,
    present=presenter.present,
    description=gettext_lazy("States that you are registered with the fund, and by which employers."),
)
