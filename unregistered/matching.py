"""Who in the registry might be this person: by CIN (current or earlier), and by name and birth date.

A possible match is enough to stop issuance: a false alarm costs a supervisor's
look, a missed one a certificate that says a registered person is unknown.
Names are compared without case, accents, spaces or hyphens; the Latin last
name or the Arabic last name matching with the same birth date is a match.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from django.db.models import Q

from registry.models import Insured


def name_key(value: str) -> str:
    """``"Ben-Jelloun"`` and ``"BENJELLOUN"`` alike; Arabic letters kept, diacritics (harakat) dropped."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    kept = "".join(char for char in decomposed if not unicodedata.combining(char))
    return "".join(char for char in kept.upper() if char.isalpha())


def possible_matches(*, cin: str, last_name: str, last_name_ar: str, birth_date: date) -> list[dict]:
    """[{"insured": id, "why": [...]}] ordered by id: every registry record that may be this person."""
    found: dict[int, set[str]] = {}
    for pk in Insured.objects.by_cin(cin).values_list("pk", flat=True):
        found.setdefault(pk, set()).add("cin")
    wanted = {key for key in (name_key(last_name), name_key(last_name_ar)) if key}
    if wanted:
        # Same birth date first (indexed equality), names compared in Python:
        # a few people share a birth date, and the comparison ignores accents.
        same_day = Insured.objects.filter(birth_date=birth_date).values_list("pk", "last_name", "last_name_ar")
        for pk, latin, arabic in same_day:
            if {name_key(latin), name_key(arabic)} & wanted:
                found.setdefault(pk, set()).add("name_birth_date")
    return [{"insured": pk, "why": sorted(why)} for pk, why in sorted(found.items())]


def cin_holders(cins: list[str]) -> Q:
    """Registry records whose current or earlier CIN is one of ``cins``."""
    return Q(cin__in=cins) | Q(previous_cins__cin__in=cins)
