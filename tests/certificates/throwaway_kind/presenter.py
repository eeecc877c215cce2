def qr_facts(facts: dict) -> dict:
    return {"r": facts["registered_on"], "y": facts["years"]}


def present(facts: dict) -> dict:
    return {"registered_on": facts.get("registered_on"), "seniority_years": facts.get("years")}
