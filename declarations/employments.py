"""Employments derived from declarations: the registry's ``Employment`` rows rebuilt from the current lines.

``rebuild_employments`` is called by the e-BDS import for the people a file
touched (``declarations.services``); the PostgreSQL fast path applies the same
rules set-based (``declarations.bulk``). Here, not in the registry, because the
rows are made from declaration lines, and the registry is the layer below.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db import transaction

from declarations.ebds import EXIT_SITUATIONS
from declarations.models import DeclarationLine
from declarations.periods import Period
from registry.models import Employer, Employment


@dataclass(frozen=True)
class _Spell:
    start_period: str
    last_period: str
    end_date: date | None
    exit_reason: str

    @property
    def start_date(self) -> date:
        return Period.parse(self.start_period).first_day


def derive_spells(lines: Iterable[tuple[str, str]]) -> list[_Spell]:
    """Employments from one employer's ``(period, situation)`` lines for one person.

    The first declared period starts an employment; a line with an exit situation
    (``SO`` left, ``DE`` deceased) ends it on the last day of its period; the next
    line after an exit starts a new one. A gap in the periods without an exit code
    does not end an employment.
    """
    spells: list[_Spell] = []
    start = last = None
    for period, situation in sorted(lines):
        if start is None:
            start = period
        last = period
        if situation in EXIT_SITUATIONS:
            spells.append(_Spell(start, last, Period.parse(period).last_day, situation))
            start = None
    if start is not None:
        spells.append(_Spell(start, last, None, ""))
    return spells


def rebuild_employments(*, insured_ids: Iterable[int], employer: Employer) -> None:
    """Make the employments of these people with ``employer`` match the current
    declaration lines. Idempotent: rows that still match are left alone, others
    are updated, created or deleted."""
    ids = set(insured_ids)
    if not ids:
        return
    with transaction.atomic():
        by_insured: dict[int, list[tuple[str, str]]] = {insured_id: [] for insured_id in ids}
        rows = DeclarationLine.objects.filter(employer=employer, insured_id__in=ids, is_current=True).values_list(
            "insured_id", "period", "situation"
        )
        for insured_id, period, situation in rows:
            by_insured[insured_id].append((period, situation))
        existing: dict[tuple[int, str], Employment] = {
            (e.insured_id, e.start_period): e
            for e in Employment.objects.filter(employer=employer, insured_id__in=ids).select_for_update()
        }

        to_create, to_update, keep = [], [], set()
        for insured_id, lines in by_insured.items():
            for spell in derive_spells(lines):
                key = (insured_id, spell.start_period)
                keep.add(key)
                row = existing.get(key)
                if row is None:
                    to_create.append(
                        Employment(
                            insured_id=insured_id,
                            employer=employer,
                            start_period=spell.start_period,
                            start_date=spell.start_date,
                            last_period=spell.last_period,
                            end_date=spell.end_date,
                            exit_reason=spell.exit_reason,
                        )
                    )
                elif (row.start_date, row.last_period, row.end_date, row.exit_reason) != (
                    spell.start_date,
                    spell.last_period,
                    spell.end_date,
                    spell.exit_reason,
                ):
                    row.start_date = spell.start_date
                    row.last_period = spell.last_period
                    row.end_date = spell.end_date
                    row.exit_reason = spell.exit_reason
                    to_update.append(row)

        stale = [row.pk for key, row in existing.items() if key not in keep]
        if stale:
            Employment.objects.filter(pk__in=stale).delete()
        if to_update:
            Employment.objects.bulk_update(to_update, ["start_date", "last_period", "end_date", "exit_reason"])
        if to_create:
            Employment.objects.bulk_create(to_create)
