"""Relevé des jours déclarés: one certificate kind.

Registered in certificates.registry by certificates/kinds/__init__.py (docs/certificates.md,
"Adding a certificate kind").
"""

from pathlib import Path

from django.utils.translation import gettext_lazy, pgettext_lazy

from certificates.registry import Kind

from . import document, presenter, rules
from .facts import DeclaredDaysFacts

KIND = Kind(
    value="declared_days",
    label=pgettext_lazy("certificate kind", "Statement of declared days"),
    code="D",
    number_prefix="JD",
    facts_type=DeclaredDaysFacts,
    directory=Path(__file__).resolve().parent,
    evaluate=rules.evaluate,
    qr_facts=presenter.qr_facts,
    present=presenter.present,
    description=gettext_lazy("Your declared days over your whole career, by year and quarter."),
    pdf_context=document.pdf_context,
)
