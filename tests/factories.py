"""Registry data for tests, through the real paths (e-BDS import, registration records)."""

from __future__ import annotations

from datetime import date

from declarations.demo import PERSONAS, build_demo
from declarations.seeding import only_people, seed
from registry.models import Insured


def seed_personas(*keys: str, today: date) -> dict[str, Insured]:
    """Import the declarations of the named demo personas (only their lines) as of ``today``."""
    numbers = {PERSONAS[key].cnss_number for key in keys}
    seed(only_people(build_demo(today), numbers))
    return {key: Insured.objects.get(cnss_number=PERSONAS[key].cnss_number) for key in keys}
