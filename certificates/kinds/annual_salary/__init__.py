"""Attestation de salaire annuelle: one certificate kind.

Registered in certificates.registry by certificates/kinds/__init__.py (docs/certificates.md,
"Adding a certificate kind").
"""

from pathlib import Path

from django.utils.translation import gettext_lazy, pgettext_lazy

from certificates.registry import Kind

from . import document, presenter, rules
from .facts import AnnualSalaryFacts

KIND = Kind(
    value="annual_salary",
    label=pgettext_lazy("certificate kind", "Annual salary certificate"),
    code="S",
    number_prefix="SA",
    facts_type=AnnualSalaryFacts,
    directory=Path(__file__).resolve().parent,
    evaluate=rules.evaluate,
    qr_facts=presenter.qr_facts,
    present=presenter.present,
    description=gettext_lazy("Your declared salaries over the last 12 months, employer by employer."),
    pdf_context=document.pdf_context,
    last_declared_option=True,
)
