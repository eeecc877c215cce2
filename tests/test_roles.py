"""Issue 22, item 5: the staff roles are declared once (``damane/roles.py``) and everything else reads them."""

import importlib
import pathlib
import re

import pytest
from django.test import Client
from django.utils import translation

from backoffice.management.commands.create_staff_user import Command as StaffCommand
from damane import roles
from damane.roles import ROLES
from tests.backoffice.conftest import make_staff, verified_login

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCE_DIRS = [
    path
    for path in ROOT.iterdir()
    if path.is_dir() and (path / "__init__.py").exists() and path.name not in {"tests", "bench"}
]


def documented_table() -> list[str]:
    text = (ROOT / "docs" / "security.md").read_text()
    return text.split("<!-- roles:begin -->\n", 1)[1].split("<!-- roles:end -->", 1)[0].strip().splitlines()


def expected_table() -> list[str]:
    with translation.override("en"):
        rows = [
            f"| `{role.name}` | {role.label} | {', '.join(f'`{group}`' for group in role.groups)} | {role.opens} |"
            for role in ROLES.values()
        ]
    return ["| role | label | groups | opens |", "|---|---|---|---|", *rows]


def test_the_roles_table_in_the_security_rules_is_the_module():
    assert documented_table() == expected_table(), "copy expected_table() into docs/security.md"


def test_the_data_migrations_create_exactly_the_groups_of_the_roles():
    agency = importlib.import_module("backoffice.migrations.0001_staff_groups").GROUPS
    treaty = importlib.import_module("treaties.migrations.0002_conventions_role_immutable_periods").GROUP
    assert sorted([*agency, treaty]) == sorted(roles.GROUPS)


def test_no_module_but_the_roles_module_asks_for_group_membership():
    offenders = []
    for directory in SOURCE_DIRS:
        for path in directory.rglob("*.py"):
            if "migrations" in path.parts or path == ROOT / "damane" / "roles.py":
                continue
            text = path.read_text()
            if re.search(r"groups\.filter\(|Group\.objects\.filter\(", text):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_create_staff_user_offers_exactly_the_declared_roles():
    parser = StaffCommand().create_parser("manage.py", "create_staff_user")
    (role_option,) = [action for action in parser._actions if "--role" in action.option_strings]
    assert role_option.choices == list(ROLES) == ["agent", "supervisor", "treaty"]
    for role in ROLES.values():
        assert role.opens in StaffCommand.help


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("groups", "shown"),
    [
        (["agent"], ["agent"]),
        (["agent", "supervisor"], ["agent", "supervisor"]),
        (["treaty"], ["treaty officer"]),
    ],
)
def test_the_staff_home_names_the_roles_a_person_holds(groups, shown):
    user = make_staff("guichet.fes", *groups)
    client = verified_login(Client(headers={"accept-language": "en"}), user)
    page = client.get("/staff/").content.decode()
    assert re.findall(r'<span class="badge badge-(?:ok|muted)">([^<]+)</span>', page) == shown


@pytest.mark.django_db
def test_the_role_labels_are_translated_on_the_staff_home():
    user = make_staff("guichet.oujda", "treaty")
    client = verified_login(Client(headers={"accept-language": "ar"}), user)
    page = client.get("/staff/").content.decode()
    with translation.override("ar"):
        label = str(ROLES["treaty"].label)
    assert label != "treaty officer"
    assert f'<span class="badge badge-muted">{label}</span>' in page
