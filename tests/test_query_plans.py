"""Queries that must stay index look-ups at national scale (docs/benchmarks.md).

A test database is too small for the planner to prefer an index on its own, so
sequential scans are priced out (``enable_seqscan = off``): a query that can use
its indexes then does, and one that cannot (an ``OR`` over a subquery, say)
still shows a ``Seq Scan``, which at a million insured was 160 ms a search.
"""

from datetime import date

import pytest
from django.db import connection

from registry.models import Insured, PreviousCin

pytestmark = pytest.mark.django_db


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def people():
    if connection.vendor != "postgresql":
        pytest.skip("plans are PostgreSQL's")
    born = date(1990, 1, 1)
    first = Insured.objects.create(
        cnss_number="100000001", cin="BE111111", last_name="A", first_name="B", birth_date=born, registered_on=born
    )
    second = Insured.objects.create(
        cnss_number="100000002", cin="BE222222", last_name="C", first_name="D", birth_date=born, registered_on=born
    )
    PreviousCin.objects.create(insured=second, cin="BE111111", replaced_on=born)
    return first, second


def test_the_search_by_cin_finds_current_and_earlier_cins_through_indexes(people):
    found = Insured.objects.by_cin("BE111111").order_by("last_name", "first_name", "pk")
    assert list(found) == list(people)
    text = plan(found)
    assert "Seq Scan" not in text, text
    assert "Index Scan using insured_current_cin_unique" in text, text


def test_a_persons_declaration_lines_are_read_through_the_persons_index(people):
    from declarations.models import DeclarationLine

    text = plan(DeclarationLine.objects.filter(insured=people[0], is_current=True))
    assert "Seq Scan" not in text, text
