"""What a verifier sees of an employment certificate: in a DMN1 QR payload, and on the verify page and API."""


def qr_facts(facts: dict) -> dict:
    """The short key facts a DMN1 payload carried (short keys keep the QR small)."""
    return {
        "e": facts["employer"]["name"],
        "a": facts["employer"]["affiliation_number"],
        "s": facts["start_date"],
        "p": facts["reference_period"],
        "d": facts["days"],
    }


def present(facts: dict) -> dict:
    return {
        "employer": (facts.get("employer") or {}).get("name"),
        "start_date": facts.get("start_date"),
        "reference_period": facts.get("reference_period"),
        "days": facts.get("days"),
    }
