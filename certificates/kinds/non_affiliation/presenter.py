"""What a verifier sees of a non-affiliation certificate: in a DMN1 QR payload, and on the verify page and API."""


def qr_facts(facts: dict) -> dict:
    return {"f": facts["from_period"], "t": facts["to_period"]}


def present(facts: dict) -> dict:
    return {"from_period": facts.get("from_period"), "to_period": facts.get("to_period")}
