"""What a verifier sees of a treaty periods certificate: in a DMN1 QR payload, and on the verify page and API."""


def qr_facts(facts: dict) -> dict:
    totals = facts["totals"]
    return {
        "c": facts["convention"]["country"],
        "m": totals["moroccan_days"],
        "f": totals["foreign_counted_days"],
        "t": totals["total_days"],
    }


def present(facts: dict) -> dict:
    totals = facts.get("totals") or {}
    convention = facts.get("convention") or {}
    return {
        "country": convention.get("country"),
        "moroccan_days": totals.get("moroccan_days"),
        "foreign_counted_days": totals.get("foreign_counted_days"),
        "total_days": totals.get("total_days"),
    }
