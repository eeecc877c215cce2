"""Sample snapshots of the certificates, one realistic person each.

The portal's six kinds have theirs here; a kind of another app brings its own
from its folder (``Kind.sample``: ``treaties/kinds/treaty_periods/sample.py``).

Used by the tests, the benchmark and ``manage.py render_samples`` (the pictures
in docs/samples/). The identifiers are fixed so that sample renders are
reproducible; real certificates get theirs from ``new_public_id()`` and
``new_verification_code()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from certificates import registry
from certificates.documents import CertificateSnapshot, HolderSnapshot
from certificates.kinds.affiliation.facts import AffiliationFacts
from certificates.kinds.annual_salary.facts import AnnualSalaryFacts
from certificates.kinds.declared_days.facts import DeclaredDaysFacts
from certificates.kinds.deregistration.facts import DeregistrationFacts
from certificates.kinds.employment.facts import EmploymentFacts
from certificates.kinds.non_affiliation.facts import NonAffiliationFacts
from declarations.periods import Period, period_range


@dataclass(frozen=True)
class Sample:
    """What a sample certificate of one kind prints, and its fixed identifiers."""

    holder: HolderSnapshot
    facts: dict
    public_id: str
    verification_code: str


ISSUED_ON = date(2026, 1, 20)
VALID_UNTIL = date(2026, 4, 20)

FATIMA = HolderSnapshot(
    last_name="EL AMRANI",
    first_name="Fatima Zahra",
    last_name_ar="العمراني",
    first_name_ar="فاطمة الزهراء",
    cin="BE123456",
    cnss_number="123456789",
    birth_date=date(1988, 3, 14),
)
YOUSSEF = HolderSnapshot(
    last_name="BENNANI",
    first_name="Youssef",
    last_name_ar="بناني",
    first_name_ar="يوسف",
    cin="J412587",
    cnss_number="187654321",
    birth_date=date(1979, 11, 2),
)
KHADIJA = HolderSnapshot(
    last_name="OUAZZANI",
    first_name="Khadija",
    last_name_ar="الوزاني",
    first_name_ar="خديجة",
    cin="AB98231",
    cnss_number="154872036",
    birth_date=date(1995, 6, 27),
)

ATLAS = {"name": "ATLAS TEXTILES SARL", "affiliation_number": "2456781"}
ARGANE = {"name": "DAR ARGANE COSMETIQUES SA", "affiliation_number": "1873409"}
LOGISTIQUE = {"name": "MAGHREB LOGISTIQUE ET TRANSPORT", "affiliation_number": "3012657"}


def _salary_rows() -> AnnualSalaryFacts:
    rows = []
    for period in period_range(Period(2025, 1), Period(2025, 12)):
        if period.month == 7:
            continue  # no declaration between the two jobs
        employer = ARGANE if period.month < 7 else ATLAS
        gross = 785_000 if period.month < 7 else 912_550
        days = 26 if period.month not in (6, 8) else (19 if period.month == 6 else 22)
        gross = gross * days // 26
        rows.append(
            {
                "period": str(period),
                "employer": employer["name"],
                "affiliation_number": employer["affiliation_number"],
                "days": days,
                "real_salary": gross,
                "capped_salary": min(gross, 600_000),
            }
        )
    return {
        "from_period": "202501",
        "to_period": "202512",
        "rows": rows,
        "totals": {
            "days": sum(r["days"] for r in rows),
            "real_salary": sum(r["real_salary"] for r in rows),
            "capped_salary": sum(r["capped_salary"] for r in rows),
        },
    }


def _career() -> DeclaredDaysFacts:
    years = []
    for year in range(2009, 2026):
        if year == 2014:
            quarters = [78, 41, 0, 0]  # between two jobs
        elif year == 2015:
            quarters = [0, 26, 70, 78]
        elif year == 2009:
            quarters = [0, 0, 52, 78]
        else:
            quarters = [78, 78, 75 if year % 3 == 0 else 78, 78]
        years.append({"year": year, "quarters": quarters, "total": sum(quarters)})
    total = sum(y["total"] for y in years)
    return {
        "as_of": ISSUED_ON.isoformat(),
        "years": years,
        "total_days": total,
        "threshold": 3240,
        "threshold_reached": total >= 3240,
        "first_period": "200908",
        "last_period": "202512",
    }


_FACTS: dict[str, tuple[HolderSnapshot, dict]] = {
    "employment": (
        FATIMA,
        EmploymentFacts(
            employer=ATLAS,
            start_date="2025-08-01",
            reference_period="202512",
            days=26,
            last_declared_period_option=False,
        ),
    ),
    "affiliation": (
        YOUSSEF,
        AffiliationFacts(
            registered_on="2009-08-17",
            employers=[
                {**LOGISTIQUE, "first_period": "200908", "last_period": "201405", "active": False},
                {**ARGANE, "first_period": "201505", "last_period": "202506", "active": False},
                {**ATLAS, "first_period": "202508", "last_period": "202512", "active": True},
            ],
        ),
    ),
    "non_affiliation": (
        KHADIJA,
        NonAffiliationFacts(from_period="202501", to_period="202512", last_salaried_period="202311"),
    ),
    "annual_salary": (FATIMA, _salary_rows()),
    "declared_days": (YOUSSEF, _career()),
    "deregistration": (
        FATIMA,
        DeregistrationFacts(
            employer=ARGANE,
            start_date="2021-05-03",
            end_date="2025-06-19",
            last_period="202506",
            exit_reason="SO",
        ),
    ),
}

_PUBLIC_IDS = {
    "employment": "q7Vd0sXo3kR9wz4mB1nJ2A",
    "affiliation": "Xc2m8Qp5LrT0vN6yHs3gKw",
    "non_affiliation": "b9Fh4Ke7Ud1Zq8Wn5Rt2Ym",
    "annual_salary": "Mv3J8rLx0Pq6Ta9cNe2Wds",
    "declared_days": "Hn5Yt2Wb8Ks1Fz7Qm4Rc0v",
    "deregistration": "Ge6Pw1Nd9Xj3Lu5Vb8Tk2s",
}
_CODES = {
    "employment": "K7QM-3XH9-RT4P-8WZN-C2VD-6JEB",
    "affiliation": "P4NW-8ZKR-2HMT-X7CQ-5VGD-9AYE",
    "non_affiliation": "T9VC-4MPX-6RHK-2NQW-8JZD-3BEF",
    "annual_salary": "W3HX-7KPT-9QVM-4ZRC-2DNJ-8GAS",
    "declared_days": "E8RJ-5TWN-3CXQ-7PHV-9KMZ-4DGU",
    "deregistration": "N6DZ-2VKQ-8XMR-4HWT-7CPJ-3BFY",
}


def _sample(kind: str) -> Sample | None:
    """The sample of ``kind``: here for the portal's kinds, from its folder (``Kind.sample``) for the others."""
    if kind in _FACTS:
        holder, facts = _FACTS[kind]
        return Sample(holder=holder, facts=facts, public_id=_PUBLIC_IDS[kind], verification_code=_CODES[kind])
    spec = registry.find(kind)
    return spec.sample() if spec is not None and spec.sample is not None else None


def sample_snapshot(kind: str) -> CertificateSnapshot:
    # The numbering of real certificates, so that samples and docs show real numbers (AT-…, not ATT-…).
    sample = _sample(kind)
    if sample is None:
        raise KeyError(f"no sample of the certificate kind {kind!r}")
    return CertificateSnapshot(
        kind=kind,
        number=f"{registry.get(kind).number_prefix}-2026-{registry.values().index(kind) + 1234:08d}",
        public_id=sample.public_id,
        verification_code=sample.verification_code,
        issued_on=ISSUED_ON,
        valid_until=VALID_UNTIL,
        holder=sample.holder,
        facts=sample.facts,
    )


def all_samples() -> list[CertificateSnapshot]:
    """One per registered kind that has a sample (every kind the portal ships, the agency kinds from their folder)."""
    return [sample_snapshot(kind) for kind in registry.values() if _sample(kind) is not None]
