"""Attestation de radiation: one certificate kind.

Registered in certificates.registry by certificates/kinds/__init__.py (docs/certificates.md,
"Adding a certificate kind").
"""

from pathlib import Path

from django.utils.translation import gettext_lazy, pgettext_lazy

from certificates.registry import Kind

from . import presenter, rules
from .facts import DeregistrationFacts

KIND = Kind(
    value="deregistration",
    label=pgettext_lazy("certificate kind", "Deregistration certificate"),
    code="R",
    number_prefix="RA",
    facts_type=DeregistrationFacts,
    directory=Path(__file__).resolve().parent,
    evaluate=rules.evaluate,
    qr_facts=presenter.qr_facts,
    present=presenter.present,
    description=gettext_lazy("States the end of an employment: dates, last period and reason."),
    employer_choice="ended",
)
