"""What a verifier sees of an affiliation certificate: in a DMN1 QR payload, and on the verify page and API."""


def qr_facts(facts: dict) -> dict:
    return {"r": facts["registered_on"], "e": len(facts["employers"])}


def present(facts: dict) -> dict:
    return {"registered_on": facts.get("registered_on"), "employers": len(facts.get("employers") or [])}
