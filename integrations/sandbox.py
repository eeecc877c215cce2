"""Sandbox keys (``dmn_test_…``): the same API over a fixed set of fictitious certificates
and share codes (docs/integrators.md, "Sandbox"), so an integrator can build and test
against every answer without a real person's data.

A sandbox key never reads the registry or the certificates, never records a look-up for
anyone (no holder's log, no share-code use) and is counted in its own quotas like any
key. Everything else (scopes, networks, RateLimit headers, Idempotency-Key, receipts,
errors) is the same as with a live key.
"""

from __future__ import annotations

from datetime import UTC, datetime

from certificates.documents import normalize_verification_code
from integrations.tokens import normalize_share_code

_HOLDER = {
    "name": "SANDBOX TEST",
    "name_ar": "تجربة",
    "cin_masked": "••••••00",
    "cnss_number_masked": "••••••000",
}
# (code, kind, number, state, facts); the codes use the alphabet of real codes.
_CERTIFICATES = [
    (
        "TEST-EMPS-GENU-2222-2222-2222",
        "employment",
        "AT-2026-99000001",
        "valid",
        {"employer": "SOCIETE FICTIVE SA", "start_date": "2019-03-01", "reference_period": "202610", "days": 26},
    ),
    (
        "TEST-EMPS-REVK-2222-2222-2222",
        "employment",
        "AT-2026-99000002",
        "revoked",
        {"employer": "SOCIETE FICTIVE SA", "start_date": "2019-03-01", "reference_period": "202609", "days": 26},
    ),
    (
        "TEST-EMPS-EXPD-2222-2222-2222",
        "employment",
        "AT-2025-99000003",
        "expired",
        {"employer": "SOCIETE FICTIVE SA", "start_date": "2019-03-01", "reference_period": "202503", "days": 26},
    ),
    (
        "TEST-EMPS-REPD-2222-2222-2222",
        "employment",
        "AT-2026-99000004",
        "replaced",
        {"employer": "SOCIETE FICTIVE SA", "start_date": "2019-03-01", "reference_period": "202608", "days": 26},
    ),
    (
        "TEST-AFFS-GENU-2222-2222-2222",
        "affiliation",
        "AF-2026-99000005",
        "valid",
        {"registered_on": "2011-05-02", "employers": 2},
    ),
    (
        "TEST-NAFS-GENU-2222-2222-2222",
        "non_affiliation",
        "NA-2026-99000006",
        "valid",
        {"from_period": "202501", "to_period": "202610"},
    ),
    (
        "TEST-SARY-GENU-2222-2222-2222",
        "annual_salary",
        "SA-2026-99000007",
        "valid",
        {"from_period": "202501", "to_period": "202512", "total_real_salary": 9600000, "total_days": 312},
    ),
    (
        "TEST-DAYS-GENU-2222-2222-2222",
        "declared_days",
        "JD-2026-99000008",
        "valid",
        {"total_days": 3410, "threshold_reached": True, "as_of": "2026-11-30"},
    ),
    (
        "TEST-DERG-GENU-2222-2222-2222",
        "deregistration",
        "RA-2026-99000009",
        "valid",
        {"employer": "SOCIETE FICTIVE SA", "start_date": "2015-01-05", "end_date": "2024-06-30"},
    ),
    (
        "TEST-TRTY-GENU-2222-2222-2222",
        "treaty_periods",
        "CT-2026-99000010",
        "valid",
        {"country": "FR", "moroccan_days": 2100, "foreign_counted_days": 1300, "total_days": 3400},
    ),
]
_SHARE_CODES = {
    "TESTS-HAREV-22222": True,  # usable: answers its facts
    "TESTS-HAREX-22222": False,  # expired: the same answer as unknown
    "TESTS-HARER-22222": False,  # revoked: the same answer as unknown
}
NOT_GENUINE = {"genuine": False}
NOT_VALID = {"valid": False}


def is_sandbox(key) -> bool:
    return key is not None and key.prefix.startswith("test_")


def _answer(kind: str, number: str, state: str, facts: dict) -> dict:
    year = int(number.split("-")[1])
    return {
        "genuine": True,
        "state": state,
        "type": kind,
        "number": number,
        "holder": dict(_HOLDER),
        "issued_on": f"{year}-11-29" if state != "expired" else "2025-04-10",
        "valid_until": "2099-12-31" if state != "expired" else "2025-07-10",
        "revoked_on": "2026-12-01" if state == "revoked" else None,
        "facts": dict(facts),
    }


_BY_CODE = {code: _answer(kind, number, state, facts) for code, kind, number, state, facts in _CERTIFICATES}


def certificates() -> list[dict]:
    """The fictitious certificates, for the docs and the tests: code and answer."""
    return [{"code": code, "answer": _BY_CODE[code]} for code, *_rest in _CERTIFICATES]


def verify(given: dict) -> dict:
    """The sandbox's answer to ``{"code": …}`` or ``{"token": …}``: a QR text never matches."""
    code = normalize_verification_code(given.get("code") or "")
    return _BY_CODE.get(code, NOT_GENUINE) if code else NOT_GENUINE


def share(raw: str) -> dict:
    code = normalize_share_code(raw)
    if not _SHARE_CODES.get(code or ""):
        return NOT_VALID
    now = datetime.now(tz=UTC).replace(microsecond=0)
    return {
        "valid": True,
        "recipient": "Sandbox",
        "holder": {"name": _HOLDER["name"], "name_ar": _HOLDER["name_ar"]},
        "as_of": now.isoformat(),
        "expires_at": now.replace(hour=23, minute=59, second=59).isoformat(),
        "facts": {
            "employment": {"active": True, "employer": "SOCIETE FICTIVE SA", "since": "2019-03-01"},
            "employer_status": {"employer": "SOCIETE FICTIVE SA", "state": "up_to_date", "label": "up to date"},
            "last_declared_period": "202610",
        },
    }
