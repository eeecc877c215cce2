"""What a verifier may learn about a certificate: the holder's name, masked
identifiers, dates, state and the key facts of its type (docs/domain.md "Verification")."""

from __future__ import annotations

from datetime import date

from certificates import registry
from damane.masking import mask


def key_facts(kind: str, facts: dict) -> dict:
    """The key facts of a certificate of ``kind``: its folder's ``presenter.present`` (certificates.registry)."""
    spec = registry.find(kind)
    return spec.present(facts) if spec is not None else {}


def present(certificate, *, today: date) -> dict:
    snapshot = certificate.snapshot
    holder = snapshot.get("holder", {})
    kind = registry.find(certificate.kind)
    return {
        "number": certificate.number,
        "kind": certificate.kind,
        # The registry's label, as get_kind_display() gives it, without rebuilding the choices each time.
        "kind_label": str(kind.label) if kind is not None else certificate.kind,
        # The kind's own lines of the verify page (templates/verification/_facts.html).
        "facts_template": kind.facts_template if kind is not None else "",
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
