import json
import math
from datetime import date

import pytest

from certificates import rules
from certificates.documents import (
    VERIFICATION_ALPHABET,
    CertificateSnapshot,
    HolderSnapshot,
    SnapshotError,
    new_public_id,
    new_verification_code,
    normalize_verification_code,
)
from certificates.samples import all_samples, sample_snapshot
from declarations.periods import Period


def test_a_snapshot_survives_a_round_trip_through_json():
    for snapshot in all_samples():
        stored = json.loads(json.dumps(snapshot.to_dict()))
        assert CertificateSnapshot.from_dict(stored) == snapshot


def test_it_refuses_a_snapshot_of_an_unknown_kind():
    data = sample_snapshot("employment").to_dict()
    data["kind"] = "mortgage"
    with pytest.raises(SnapshotError):
        CertificateSnapshot.from_dict(data)


def test_it_refuses_facts_missing_a_printed_value():
    data = sample_snapshot("employment").to_dict()
    del data["facts"]["days"]
    with pytest.raises(SnapshotError, match="days"):
        CertificateSnapshot.from_dict(data)


def test_it_refuses_a_validity_ending_before_the_issue_date():
    data = sample_snapshot("affiliation").to_dict()
    data["valid_until"] = "2025-12-31"
    with pytest.raises(SnapshotError):
        CertificateSnapshot.from_dict(data)


def test_public_ids_carry_at_least_128_random_bits_and_are_url_safe():
    ids = {new_public_id() for _ in range(2000)}
    assert len(ids) == 2000
    for public_id in ids:
        assert len(public_id) >= 22  # 22 base64url characters = 132 bits of room for 128 random bits
        assert set(public_id) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_verification_codes_have_100_bits_or_more_and_no_ambiguous_characters():
    codes = [new_verification_code() for _ in range(2000)]
    assert len(set(codes)) == 2000
    for code in codes:
        symbols = code.replace("-", "")
        assert not set(symbols) & set("0O1IL")
        assert set(symbols) <= set(VERIFICATION_ALPHABET)
        assert len(symbols) * math.log2(len(VERIFICATION_ALPHABET)) >= 100
        assert [len(group) for group in code.split("-")] == [4] * 6


def test_a_typed_code_is_found_whatever_its_case_spaces_and_dashes():
    code = sample_snapshot("employment").verification_code
    typed = code.lower().replace("-", " ")
    assert normalize_verification_code(typed) == code
    assert normalize_verification_code(code.replace("-", "")) == code


def test_a_code_with_a_forbidden_or_missing_character_is_not_a_code():
    code = sample_snapshot("employment").verification_code
    assert normalize_verification_code(code[:-1]) is None
    assert normalize_verification_code(code[:-1] + "0") is None
    assert normalize_verification_code("") is None


def test_the_sample_codes_are_valid_codes():
    for snapshot in all_samples():
        assert normalize_verification_code(snapshot.verification_code) == snapshot.verification_code


def _record() -> rules.InsuredRecord:
    employer = rules.EmployerRef(id=7, name="ATLAS TEXTILES SARL", affiliation_number="2456781")
    lines = tuple(
        rules.LineRecord(employer_id=7, period=Period(2025, m), days=26, real_salary=812_000, capped_salary=600_000)
        for m in range(1, 13)
    )
    return rules.InsuredRecord(
        holder=rules.Holder(
            cnss_number="123456789",
            cin="BE123456",
            last_name="EL AMRANI",
            first_name="Fatima Zahra",
            last_name_ar="العمراني",
            first_name_ar="فاطمة الزهراء",
            birth_date=date(1988, 3, 14),
        ),
        registered_on=date(2012, 9, 3),
        employments=(
            rules.EmploymentRecord(
                id=1,
                employer=employer,
                start_date=date(2025, 1, 2),
                start_period=Period(2025, 1),
                last_period=Period(2025, 12),
            ),
        ),
        lines=lines,
    )


@pytest.mark.parametrize("kind", ["employment", "affiliation", "annual_salary", "declared_days"])
def test_the_facts_the_rules_engine_returns_make_a_printable_snapshot(kind):
    record = _record()
    decision = rules.evaluate(record, kind, today=date(2026, 1, 20))
    assert decision.allowed
    snapshot = CertificateSnapshot(
        kind=kind,
        number="ATT-2026-00000001",
        public_id=new_public_id(),
        verification_code=new_verification_code(),
        issued_on=date(2026, 1, 20),
        valid_until=date(2026, 4, 20),
        holder=HolderSnapshot.from_holder(record.holder),
        facts=decision.facts,
    )
    assert CertificateSnapshot.from_dict(json.loads(json.dumps(snapshot.to_dict()))) == snapshot
