"""What a verifier sees of a statement of declared days: in a DMN1 QR payload, and on the verify page and API."""


def qr_facts(facts: dict) -> dict:
    return {"a": facts["as_of"], "t": facts["total_days"], "r": 1 if facts["threshold_reached"] else 0}


def present(facts: dict) -> dict:
    return {
        "total_days": facts.get("total_days"),
        "threshold_reached": facts.get("threshold_reached"),
        "as_of": facts.get("as_of"),
    }
