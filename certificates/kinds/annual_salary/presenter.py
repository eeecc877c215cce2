"""What a verifier sees of an annual salary certificate: in a DMN1 QR payload, and on the verify page and API."""


def qr_facts(facts: dict) -> dict:
    totals = facts["totals"]
    return {
        "f": facts["from_period"],
        "t": facts["to_period"],
        "d": totals["days"],
        "g": totals["real_salary"],
        "c": totals["capped_salary"],
    }


def present(facts: dict) -> dict:
    totals = facts.get("totals") or {}
    return {
        "from_period": facts.get("from_period"),
        "to_period": facts.get("to_period"),
        "total_real_salary": totals.get("real_salary"),
        "total_days": totals.get("days"),
    }
