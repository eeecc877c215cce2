"""What a certificate document says: the snapshot printed on it.

A certificate is a snapshot (docs/style.md, "Documents are snapshots"): issuing copies
everything printed into a :class:`CertificateSnapshot`, stored as JSON in the
certificate row (``to_dict()``), and the PDF is a pure function of it
(``certificates.rendering``). Nothing here reads the database.

``facts`` is plain JSON whose shape depends on the kind; each shape is spelled
out as a ``TypedDict`` in the kind's folder (``certificates/kinds/<kind>/facts.py``,
registered in certificates.registry) and is exactly what its rules return in
``Allowed.facts``. Conventions inside facts: dates are ISO strings
(``"2026-01-15"``), periods are ``"YYYYMM"`` strings, amounts are integers in
centimes (MAD x 100), days are integers.
"""

import copy
import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypedDict

# No "from __future__ import annotations" here: TypedDict only sees NotRequired
# keys in evaluated annotations on Python 3.11.
from certificates import registry

# Bump when the stored snapshot layout changes incompatibly; from_dict() reads
# every version ever written.
SNAPSHOT_SCHEMA = 1


# --- Facts: the shapes kinds share; each kind's own is in its folder (facts.py) ---


class EmployerFacts(TypedDict):
    name: str
    affiliation_number: str  # 7 digits


class DeclaredDaysYear(TypedDict):
    year: int
    quarters: list[int]  # four values, each capped at the quarter maximum (78)
    total: int


class SnapshotError(ValueError):
    """A snapshot that cannot be printed: unknown kind, missing facts, bad code."""


def check_facts(kind: str, facts: dict[str, Any]) -> None:
    """Refuse facts missing a key the document prints, before anything is signed."""
    spec = registry.find(kind)
    if spec is None:
        raise SnapshotError(f"unknown certificate kind {kind!r}")
    required = spec.facts_type.__required_keys__
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
        if registry.find(self.kind) is None:
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
