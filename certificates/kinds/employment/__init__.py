"""Attestation de travail: one certificate kind.

Registered in certificates.registry by certificates/kinds/__init__.py (docs/certificates.md,
"Adding a certificate kind").
"""

from pathlib import Path

from django.utils.translation import gettext_lazy, pgettext_lazy

from certificates.registry import Kind

from . import presenter, rules
from .facts import EmploymentFacts

KIND = Kind(
    value="employment",
    label=pgettext_lazy("certificate kind", "Employment certificate"),
    code="E",
    number_prefix="AT",
    facts_type=EmploymentFacts,
    directory=Path(__file__).resolve().parent,
    evaluate=rules.evaluate,
    qr_facts=presenter.qr_facts,
    present=presenter.present,
    description=gettext_lazy("States that you are declared as a salaried employee of an employer."),
    employer_choice="active",
    last_declared_option=True,
)
