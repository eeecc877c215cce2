"""Issue 19, item 9: ``create_staff_user --role`` makes every staff role of the portal, each with only its own
pages: a treaty officer is not an agent and cannot browse the insured records; no role, no account."""

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from accounts.models import User
from damane.roles import ROLES
from tests.backoffice.conftest import verified_login

pytestmark = pytest.mark.django_db

# What each role opens (200) and what it is refused (403): one column per staff area.
PAGES = {
    "records": "/staff/search/?q=BENNANI",
    "requests": "/staff/requests/",
    "people absent from the registry": "/staff/unregistered/",
    "integrators": "/staff/integrators/",
    "audit trail": "/staff/audit/",
    "treaties": "/staff/treaties/",
}
OPENS = {
    "agent": {"records", "requests", "people absent from the registry", "integrators"},
    "supervisor": {"records", "requests", "people absent from the registry", "integrators", "audit trail"},
    "treaty": {"treaties"},
}


def create(username, *arguments):
    out = io.StringIO()
    call_command("create_staff_user", username, *arguments, "--no-qr", stdout=out)
    return User.objects.get(username=username), out.getvalue()


def test_every_role_of_the_portal_has_its_row_in_the_access_table():
    assert set(ROLES) == set(OPENS) == {"agent", "supervisor", "treaty"}


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_role_opens_its_own_pages_and_only_those(role):
    user, out = create(f"{role}.rabat", "--role", role)
    assert user.is_staff and not user.is_superuser and user.insured_id is None
    assert set(user.groups.values_list("name", flat=True)) == set(ROLES[role].groups)
    assert f"Created staff user {role}.rabat: {role}" in out
    client = verified_login(Client(headers={"accept-language": "en"}), user)
    answers = {area: client.get(url).status_code for area, url in PAGES.items()}
    assert answers == {area: 200 if area in OPENS[role] else 403 for area in PAGES}


def test_a_treaty_officer_is_not_an_agent():
    user, _out = create("traites.rabat", "--role", "treaty")
    assert list(user.groups.values_list("name", flat=True)) == ["treaty"]


def test_two_roles_give_both_and_the_supervisor_shorthand_still_works():
    both, _out = create("agent.traites", "--role", "agent", "--role", "treaty")
    assert set(both.groups.values_list("name", flat=True)) == {"agent", "treaty"}
    chief, _out = create("chef.fes", "--supervisor")
    assert set(chief.groups.values_list("name", flat=True)) == {"agent", "supervisor"}


def test_no_role_or_an_unknown_one_creates_nothing():
    with pytest.raises(CommandError, match=re.escape("Give the account's role: --role agent | supervisor | treaty")):
        create("personne.rabat")
    with pytest.raises(CommandError):
        create("admin.rabat", "--role", "admin")
    assert not User.objects.filter(username__in=["personne.rabat", "admin.rabat"]).exists()
