"""A certificate kind that exists only in the tests: one folder, registered by the test.

It shows that a kind is its folder plus one ``registry.register`` call
(docs/certificates.md, "Adding a certificate kind"): "Attestation d'ancienneté",
the years since the holder's registration with the fund.
"""

from pathlib import Path

from certificates.registry import Kind

from . import presenter, rules
from .facts import SeniorityFacts

KIND = Kind(
    value="test_seniority",
    label="Seniority certificate",
    code="Z",
    number_prefix="ZT",
    facts_type=SeniorityFacts,
    directory=Path(__file__).resolve().parent,
    evaluate=rules.evaluate,
    qr_facts=presenter.qr_facts,
    present=presenter.present,
    description="States since when you are registered with the fund.",
)
