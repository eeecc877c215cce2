"""manage.py seed_scale, run tiny: the same code path as the national-scale seed."""

import io

import pytest
from django.core.management import CommandError, call_command

from declarations.models import Declaration, DeclarationLine, EbdsFile
from registry.models import Employer, Employment, Insured

pytestmark = pytest.mark.django_db


def seed(tmp_path, *args):
    out = io.StringIO()
    call_command(
        "seed_scale", "--insured", "30", "--employers", "4", "--periods", "3", "--dir", str(tmp_path), *args, stdout=out
    )
    return out.getvalue()


def test_it_imports_every_employer_every_period_through_the_real_import(tmp_path):
    out = seed(tmp_path)

    assert Insured.objects.count() == 30
    assert Employer.objects.count() == 4
    assert Declaration.objects.count() == EbdsFile.objects.count() == 12
    assert DeclarationLine.objects.count() == 90
    assert DeclarationLine.objects.filter(is_new_employee=True).count() == 30
    # Nobody leaves: one employment each, running to the last period.
    last = Declaration.objects.order_by("-period").first().period
    assert list(Employment.objects.values_list("last_period", flat=True).distinct()) == [last]
    assert Employment.objects.count() == 30
    assert "Seeded 30 insured, 4 employers, 3 periods: 12 files imported, 90 lines" in out
    assert "database size" in out
    assert list(tmp_path.iterdir()) == []  # files are deleted once imported


def test_it_refuses_a_database_that_already_holds_declarations_unless_resumed(tmp_path):
    seed(tmp_path)
    with pytest.raises(CommandError, match="already holds declarations"):
        seed(tmp_path)

    out = seed(tmp_path, "--resume", "--keep-files")
    assert "0 files imported, 12 already there" in out
    assert DeclarationLine.objects.count() == 90
    assert len(list(tmp_path.iterdir())) == 12


def test_it_refuses_more_employers_than_people(tmp_path):
    with pytest.raises(CommandError):
        call_command("seed_scale", "--insured", "2", "--employers", "3", "--dir", str(tmp_path))
