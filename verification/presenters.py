"""What a verifier may learn about a certificate: the holder's name, masked
identifiers, dates, state and the key facts of its type (docs/domain.md "Verification")."""

from __future__ import annotations

from datetime import date


def mask(value: str, keep: int = 3) -> str:
    """'100234561' -> '••••••561': never the full CIN or CNSS number (docs/security.md §15)."""
    value = value or ""
    if len(value) <= keep:
        return "•" * len(value)
    return "•" * (len(value) - keep) + value[-keep:]


def key_facts(kind: str, facts: dict) -> dict:
    employer = (facts.get("employer") or {}).get("name")
    if kind == "employment":
        return {
            "employer": employer,
            "start_date": facts.get("start_date"),
            "reference_period": facts.get("reference_period"),
            "days": facts.get("days"),
        }
    if kind == "deregistration":
        return {"employer": employer, "start_date": facts.get("start_date"), "end_date": facts.get("end_date")}
    if kind == "annual_salary":
        totals = facts.get("totals") or {}
        return {
            "from_period": facts.get("from_period"),
            "to_period": facts.get("to_period"),
            "total_real_salary": totals.get("real_salary"),
            "total_days": totals.get("days"),
        }
    if kind == "declared_days":
        return {
            "total_days": facts.get("total_days"),
            "threshold_reached": facts.get("threshold_reached"),
            "as_of": facts.get("as_of"),
        }
    if kind == "non_affiliation":
        return {"from_period": facts.get("from_period"), "to_period": facts.get("to_period")}
    if kind == "affiliation":
        return {"registered_on": facts.get("registered_on"), "employers": len(facts.get("employers") or [])}
    if kind == "treaty_periods":
        totals = facts.get("totals") or {}
        convention = facts.get("convention") or {}
        return {
            "country": convention.get("country"),
            "moroccan_days": totals.get("moroccan_days"),
            "foreign_counted_days": totals.get("foreign_counted_days"),
            "total_days": totals.get("total_days"),
        }
    return {}


def present(certificate, *, today: date) -> dict:
    snapshot = certificate.snapshot
    holder = snapshot.get("holder", {})
    return {
        "number": certificate.number,
        "kind": certificate.kind,
        "kind_label": certificate.get_kind_display(),
        "state": certificate.state_on(today),
        "issued_on": certificate.issued_on,
        "valid_until": certificate.valid_until,
        "revoked_at": certificate.revoked_at,
        "superseded": certificate.superseded_by_id is not None,
        "holder_name": " ".join(p for p in (holder.get("last_name"), holder.get("first_name")) if p),
        "holder_name_ar": " ".join(p for p in (holder.get("last_name_ar"), holder.get("first_name_ar")) if p),
        "cin_masked": mask(holder.get("cin", ""), 2),
        "cnss_masked": mask(holder.get("cnss_number", ""), 3),
        "facts": key_facts(certificate.kind, snapshot.get("facts", {})),
    }


def embedded_for_display(facts: dict | None) -> str:
    """The certificate.json a genuine file carries, as indented JSON with the identifiers masked
    (docs/security.md §15)."""
    import copy
    import json

    if not facts:
        return ""
    shown = copy.deepcopy(facts)
    holder = shown.get("holder")
    if isinstance(holder, dict):
        holder["cin"] = mask(str(holder.get("cin") or ""), 2)
        holder["cnss_number"] = mask(str(holder.get("cnss_number") or ""), 3)
        holder.pop("birth_date", None)
    return json.dumps(shown, ensure_ascii=False, indent=2)
