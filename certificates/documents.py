"""What a certificate document says: the snapshot printed on it.

A certificate is a snapshot (docs/style.md, "Documents are snapshots"): issuing copies
everything printed into a :class:`CertificateSnapshot`, stored as JSON in the
certificate row (``to_dict()``), and the PDF is a pure function of it
(``certificates.rendering``). Nothing here reads the database.

``facts`` is plain JSON whose shape depends on the kind; each shape is spelled
out below as a ``TypedDict`` and is exactly what ``certificates.rules.evaluate``
returns in ``Allowed.facts``. Conventions inside facts: dates are ISO strings
(``"2026-01-15"``), periods are ``"YYYYMM"`` strings, amounts are integers in
centimes (MAD x 100), days are integers.
"""

import copy
import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NotRequired, TypedDict

# No "from __future__ import annotations" here: TypedDict only sees NotRequired
# keys in evaluated annotations on Python 3.11.
from certificates.rules import (
    AFFILIATION,
    ALL_KINDS,
    ANNUAL_SALARY,
    DECLARED_DAYS,
    DEREGISTRATION,
    EMPLOYMENT,
    NON_AFFILIATION,
    TREATY_PERIODS,
)

# Bump when the stored snapshot layout changes incompatibly; from_dict() reads
# every version ever written.
SNAPSHOT_SCHEMA = 1


# --- Facts, one shape per kind -------------------------------------------------


class EmployerFacts(TypedDict):
    name: str
    affiliation_number: str  # 7 digits


class EmploymentFacts(TypedDict):
    """Attestation de travail: one employer, one reference period."""

    employer: EmployerFacts
    start_date: str  # first day declared by this employer
    reference_period: str
    days: int  # days declared for the reference period
    last_declared_period_option: bool  # the insured asked for the last declared period (E-1)


class AffiliationEmployerRow(TypedDict):
    name: str
    affiliation_number: str
    first_period: str
    last_period: str
    active: bool


class AffiliationFacts(TypedDict):
    """Attestation d'affiliation: the person, every employer that declared them."""

    registered_on: str
    employers: list[AffiliationEmployerRow]


class NonAffiliationFacts(TypedDict):
    """Attestation de non-affiliation: no salaried declaration over the lookback window."""

    from_period: str
    to_period: str
    last_salaried_period: str | None  # before the window; None if never declared
    # A person absent from the registry, certified at the agency (unregistered app):
    unregistered: NotRequired[bool]
    record_reference: NotRequired[str]  # "NR-0000001"
    searched_on: NotRequired[str]  # the day the registry was searched


class SalaryRow(TypedDict):
    period: str
    employer: str
    affiliation_number: str
    days: int
    real_salary: int  # centimes
    capped_salary: int  # centimes


class SalaryTotals(TypedDict):
    days: int
    real_salary: int
    capped_salary: int


class AnnualSalaryFacts(TypedDict):
    """Attestation de salaire annuelle: 12 periods ending at the reference period.

    ``rows`` holds the declared lines only (several per period with several
    employers); the document shows a period without any line as "not declared".
    """

    from_period: str
    to_period: str
    rows: list[SalaryRow]
    totals: SalaryTotals
    ceiling: NotRequired[int]  # monthly ceiling in force, centimes; settings value when absent


class DeclaredDaysYear(TypedDict):
    year: int
    quarters: list[int]  # four values, each capped at the quarter maximum (78)
    total: int


class DeclaredDaysFacts(TypedDict):
    """Relevé des jours déclarés: whole career, per year and quarter."""

    as_of: str  # "as declared on" date
    years: list[DeclaredDaysYear]
    total_days: int
    threshold: int  # pension threshold (3,240 days)
    threshold_reached: bool
    first_period: str | None
    last_period: str | None
    quarter_max: NotRequired[int]  # days a quarter counts at most; settings value when absent


class DeregistrationFacts(TypedDict):
    """Attestation de radiation: one ended employment."""

    employer: EmployerFacts
    start_date: str
    end_date: str
    last_period: str
    exit_reason: str  # e-BDS situation code: "SO" (left), "DE" (deceased), or ""


class ConventionFacts(TypedDict):
    country: str  # ISO 3166 alpha-2
    name_fr: str
    name_ar: str
    title_fr: str
    title_ar: str
    institution: str  # liaison institution
    institution_ar: str
    rule: dict  # days_per_quarter, days_per_month, quarter_max


class ForeignPeriodRow(TypedDict):
    country: str
    institution: str
    start: str
    end: str
    unit: str  # "quarters", "months" or "days", as the foreign institution reported
    amount: int
    reference: str
    days: int  # what the period counts for under the convention's rule


class TreatyMoroccanFacts(TypedDict):
    years: list[DeclaredDaysYear]
    total_days: int
    first_period: str | None
    last_period: str | None


class TreatyTotals(TypedDict):
    moroccan_days: int
    foreign_days: int  # as reported, converted to days
    foreign_counted_days: int  # what counts once overlapping quarters are counted once
    not_counted_days: int
    overlapping_quarters: int
    total_days: int
    threshold: int
    threshold_reached: bool


class TreatyPeriodsFacts(TypedDict):
    """Attestation de périodes d'assurance (convention): Moroccan and foreign periods, totals under the rule."""

    convention: ConventionFacts
    request_reference: str
    version: int  # the approved version of the foreign periods
    as_of: str
    moroccan: TreatyMoroccanFacts
    foreign: list[ForeignPeriodRow]
    countries: list[dict]
    totals: TreatyTotals


FACTS_TYPES: dict[str, type] = {
    EMPLOYMENT: EmploymentFacts,
    AFFILIATION: AffiliationFacts,
    NON_AFFILIATION: NonAffiliationFacts,
    ANNUAL_SALARY: AnnualSalaryFacts,
    DECLARED_DAYS: DeclaredDaysFacts,
    DEREGISTRATION: DeregistrationFacts,
    TREATY_PERIODS: TreatyPeriodsFacts,
}


class SnapshotError(ValueError):
    """A snapshot that cannot be printed: unknown kind, missing facts, bad code."""


def check_facts(kind: str, facts: dict[str, Any]) -> None:
    """Refuse facts missing a key the document prints, before anything is signed."""
    if kind not in FACTS_TYPES:
        raise SnapshotError(f"unknown certificate kind {kind!r}")
    required = FACTS_TYPES[kind].__required_keys__
    missing = sorted(required - facts.keys())
    if missing:
        raise SnapshotError(f"{kind} facts miss {', '.join(missing)}")


# --- Holder and snapshot ---------------------------------------------------------


@dataclass(frozen=True)
class HolderSnapshot:
    last_name: str
    first_name: str
    last_name_ar: str
    first_name_ar: str
    cin: str
    cnss_number: str
    birth_date: date | None = None

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.last_name, self.first_name) if part)

    @property
    def full_name_ar(self) -> str:
        return " ".join(part for part in (self.last_name_ar, self.first_name_ar) if part)

    @classmethod
    def from_holder(cls, holder: Any) -> "HolderSnapshot":
        """From ``certificates.rules.Holder`` or a ``registry.Insured``: same attribute names."""
        return cls(
            last_name=holder.last_name,
            first_name=holder.first_name,
            last_name_ar=holder.last_name_ar,
            first_name_ar=holder.first_name_ar,
            cin=holder.cin,
            cnss_number=holder.cnss_number,
            birth_date=holder.birth_date,
        )


@dataclass(frozen=True)
class CertificateSnapshot:
    """Everything printed on one certificate, as it was at issue time.

    The document is always bilingual French/Arabic (legal text of the fund);
    ``locale`` records the language the holder used when asking for it, for the
    e-mails and pages around the document, not for the document itself.
    """

    kind: str
    number: str
    public_id: str
    verification_code: str
    issued_on: date
    valid_until: date
    holder: HolderSnapshot
    facts: dict[str, Any] = field(default_factory=dict)
    locale: str = "fr"

    def __post_init__(self) -> None:
        if self.kind not in ALL_KINDS:
            raise SnapshotError(f"unknown certificate kind {self.kind!r}")
        if self.valid_until < self.issued_on:
            raise SnapshotError("valid_until is before issued_on")
        check_facts(self.kind, self.facts)
        # A private copy: the caller's dict (rules output, a stored row) can
        # change afterwards without changing what this snapshot prints.
        object.__setattr__(self, "facts", copy.deepcopy(self.facts))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form, for ``Certificate.snapshot``."""
        holder = self.holder
        return {
            "schema": SNAPSHOT_SCHEMA,
            "kind": self.kind,
            "number": self.number,
            "public_id": self.public_id,
            "verification_code": self.verification_code,
            "locale": self.locale,
            "issued_on": self.issued_on.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "holder": {
                "last_name": holder.last_name,
                "first_name": holder.first_name,
                "last_name_ar": holder.last_name_ar,
                "first_name_ar": holder.first_name_ar,
                "cin": holder.cin,
                "cnss_number": holder.cnss_number,
                "birth_date": holder.birth_date.isoformat() if holder.birth_date else None,
            },
            "facts": copy.deepcopy(self.facts),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CertificateSnapshot":
        schema = data.get("schema", SNAPSHOT_SCHEMA)
        if schema != SNAPSHOT_SCHEMA:
            raise SnapshotError(f"unknown snapshot schema {schema!r}")
        holder = dict(data["holder"])
        birth = holder.pop("birth_date", None)
        return cls(
            kind=data["kind"],
            number=data["number"],
            public_id=data["public_id"],
            verification_code=data["verification_code"],
            locale=data.get("locale", "fr"),
            issued_on=date.fromisoformat(data["issued_on"]),
            valid_until=date.fromisoformat(data["valid_until"]),
            holder=HolderSnapshot(**holder, birth_date=date.fromisoformat(birth) if birth else None),
            facts=data["facts"],
        )


# --- Identifiers printed on the document (docs/security.md §14) -------------------------

# 16 random bytes: 128 bits, 22 URL-safe characters in the QR code URL.
PUBLIC_ID_BYTES = 16
# No 0/O, 1/I/L: what a person reads off a printed page and types back.
VERIFICATION_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
VERIFICATION_GROUPS = 6
VERIFICATION_GROUP_SIZE = 4  # 24 symbols of log2(31) bits: 118.9 bits
_CODE_RE = re.compile(
    rf"^[{VERIFICATION_ALPHABET}]{{{VERIFICATION_GROUPS * VERIFICATION_GROUP_SIZE}}}$",
)


def new_public_id() -> str:
    return secrets.token_urlsafe(PUBLIC_ID_BYTES)


def new_verification_code() -> str:
    """``XXXX-XXXX-XXXX-XXXX-XXXX-XXXX`` from ``secrets``, about 119 bits."""
    symbols = "".join(
        secrets.choice(VERIFICATION_ALPHABET) for _ in range(VERIFICATION_GROUPS * VERIFICATION_GROUP_SIZE)
    )
    return _group(symbols)


def normalize_verification_code(text: str) -> str | None:
    """The canonical grouped form of what someone typed, or None if it cannot be a code.

    Case, spaces and dashes are ignored, so "abcd efgh..." finds "ABCD-EFGH-...".
    """
    from registry.validators import ARABIC_DIGITS

    compact = re.sub(r"[\s\-]", "", (text or "").translate(ARABIC_DIGITS)).upper()
    if not _CODE_RE.match(compact):
        return None
    return _group(compact)


def _group(symbols: str) -> str:
    size = VERIFICATION_GROUP_SIZE
    return "-".join(symbols[i : i + size] for i in range(0, len(symbols), size))
