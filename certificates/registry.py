"""The certificate kinds, each one folder, registered here once.

A kind is everything that differs between two certificates: what blocks it and
the facts it prints (its rules), the shape of those facts (a ``TypedDict`` and a
JSON-schema fragment), its QR letter and number prefix, what the verify page
and API show of it (its presenter) and its templates (PDF body, facts partial).
Each lives in one folder holding an ``__init__.py`` that builds a :class:`Kind`;
the checklist is in docs/certificates.md, "Adding a certificate kind".

The kinds the portal issues online are in ``certificates/kinds/`` and register
when the certificates app is ready; a kind issued by an agency feature lives in
that feature's app (``treaties/kinds/treaty_periods/``) and registers from its
``apps.py``: the upper app registers into the lower one. Everything that used
to test a kind by name reads this registry instead: the model's choices,
rules, numbering, QR claims, rendering, views, verification, the
certificate.json schema, the OpenAPI document and the offline verifier's page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Files of a kind's folder that the template loader serves (certificates.templateloader).
PDF_TEMPLATE = "pdf.html"
FACTS_TEMPLATE = "facts.html"
SCHEMA_FILE = "facts.schema.json"

_VALUE_RE = re.compile(r"^[a-z][a-z_]{0,19}$")  # Certificate.kind is 20 characters
_CODE_RE = re.compile(r"^[A-Z]$")
_PREFIX_RE = re.compile(r"^[A-Z]{2,4}$")  # certificate.json: ^[A-Z]{2,4}-YYYY-NNNNNNNN$


@dataclass(frozen=True)
class Limits:
    """The fund's numbers the rules read, from settings (``certificates.services.evaluate_record``)."""

    max_days_per_quarter: int = 78
    pension_days_threshold: int = 3240
    lookback_periods: int = 12
    salary_ceiling: int = 600_000


def _no_context(facts: dict) -> dict:
    return {}


@dataclass(frozen=True)
class Kind:
    """One certificate kind. ``value``, ``code`` and ``number_prefix`` are on issued documents: never change them."""

    value: str  # stored in Certificate.kind, the snapshot and certificate.json
    label: Any  # its name, translated lazily (pgettext "certificate kind")
    code: str  # one letter in the QR payload (DMN1/DMN2 claim "k")
    number_prefix: str  # the certificate number: AT-2026-00000042
    facts_type: type  # the TypedDict of its facts: the keys a document needs
    directory: Path  # its folder: pdf.html, facts.html, facts.schema.json
    qr_facts: Callable[[dict], dict]  # the short key facts of a DMN1 payload
    present: Callable[[dict], dict]  # the key facts the verify page and API show
    # Rules: evaluate(record, options, *, today, limits) -> Allowed | Blocked.
    # None for a kind only an agency issues, with facts its own service builds.
    evaluate: Callable | None = None
    description: Any = None  # one line on the insured's list of certificates (online kinds)
    pdf_context: Callable[[dict], dict] = _no_context  # extra template context computed from the facts
    employer_choice: str = ""  # "active" or "ended": the request form offers these employers
    last_declared_option: bool = False  # the form may offer "last declared period"
    # render_samples and the tests: () -> certificates.samples.Sample. The portal's kinds have
    # theirs in certificates/samples.py; a kind of another app brings its own from its folder.
    sample: Callable[[], Any] | None = None

    def __post_init__(self) -> None:
        if not _VALUE_RE.match(self.value):
            raise ValueError(f"kind value {self.value!r}: lowercase letters and _, at most 20")
        if not _CODE_RE.match(self.code):
            raise ValueError(f"kind {self.value}: QR code {self.code!r} is not one capital letter")
        if not _PREFIX_RE.match(self.number_prefix):
            raise ValueError(f"kind {self.value}: number prefix {self.number_prefix!r} is not 2-4 capitals")

    @property
    def online(self) -> bool:
        """Whether the insured can ask for it on the portal (it has rules)."""
        return self.evaluate is not None

    @property
    def pdf_template(self) -> str:
        return f"kinds/{self.value}/{PDF_TEMPLATE}"

    @property
    def facts_template(self) -> str:
        return f"kinds/{self.value}/{FACTS_TEMPLATE}"

    def schema(self) -> dict:
        """The JSON-schema fragment of its facts (``$ref`` may name the shared ``$defs``)."""
        return json.loads((self.directory / SCHEMA_FILE).read_text(encoding="utf-8"))


class UnknownKind(LookupError):
    pass


_kinds: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add ``kind``; refuses a second kind with the same value, QR letter or number prefix."""
    for other in _kinds.values():
        if other.value == kind.value:
            if other == kind:
                return kind
            raise ValueError(f"certificate kind {kind.value!r} is already registered")
        if other.code == kind.code:
            raise ValueError(f"QR letter {kind.code} of {kind.value} is already {other.value}'s")
        if other.number_prefix == kind.number_prefix:
            raise ValueError(f"number prefix {kind.number_prefix} of {kind.value} is already {other.value}'s")
    _kinds[kind.value] = kind
    _changed()
    return kind


def unregister(value: str) -> None:
    """Remove a kind (tests that register a throwaway kind)."""
    if _kinds.pop(value, None) is not None:
        _changed()


_generation = 0


def _changed() -> None:
    global _generation
    _generation += 1


def generation() -> int:
    """Changes whenever a kind is registered or removed: what is built from the kinds is cached by it."""
    return _generation


def kinds() -> list[Kind]:
    """Every kind, in the order registered: the portal's six, then the agency kinds."""
    return list(_kinds.values())


def online_kinds() -> list[Kind]:
    return [kind for kind in _kinds.values() if kind.online]


def get(value: str) -> Kind:
    try:
        return _kinds[value]
    except (KeyError, TypeError):
        raise UnknownKind(f"unknown certificate kind {value!r}") from None


def find(value: str) -> Kind | None:
    return _kinds.get(value) if isinstance(value, str) else None


def by_code(code: str) -> Kind | None:
    return next((kind for kind in _kinds.values() if kind.code == code), None)


def is_online(value: str) -> bool:
    kind = find(value)
    return kind is not None and kind.online


def values() -> list[str]:
    return list(_kinds)


def choices() -> list[tuple[str, Any]]:
    """``Certificate.kind`` choices (a callable: kinds registered later still count)."""
    return [(kind.value, kind.label) for kind in _kinds.values()]


def online_choices() -> list[tuple[str, Any]]:
    return [(kind.value, kind.label) for kind in online_kinds()]


def published() -> list[dict[str, str]]:
    """What verifiers are told about the kinds: value, QR letter, number prefix, label in the active language."""
    return [
        {"kind": kind.value, "code": kind.code, "number_prefix": kind.number_prefix, "label": str(kind.label)}
        for kind in _kinds.values()
    ]
