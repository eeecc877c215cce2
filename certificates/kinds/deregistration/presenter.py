"""What a verifier sees of a deregistration certificate: in a DMN1 QR payload, and on the verify page and API."""


def qr_facts(facts: dict) -> dict:
    return {
        "e": facts["employer"]["name"],
        "a": facts["employer"]["affiliation_number"],
        "s": facts["start_date"],
        "x": facts["end_date"],
        "p": facts["last_period"],
        "r": facts["exit_reason"],
    }


def present(facts: dict) -> dict:
    return {
        "employer": (facts.get("employer") or {}).get("name"),
        "start_date": facts.get("start_date"),
        "end_date": facts.get("end_date"),
    }
