"""Issue 22, item 5: every audit action is declared once, with a label in French, Arabic and English."""

import ast
import pathlib
import re

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import trans_real

from audit.actions import NAME, AuditActionRegistry, UndeclaredAuditAction, actions
from audit.models import AuditEntry
from audit.services import audit_record
from casework.models import CaseKind, CaseStatus
from declarations.models import EbdsImportJob
from tests.backoffice.conftest import make_staff, verified_login

ROOT = pathlib.Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale"


def source_files():
    for directory in sorted(ROOT.iterdir()):
        if directory.name in {"tests", "bench", ".venv"} or not (directory / "__init__.py").exists():
            continue
        for path in sorted(directory.rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def written_actions():
    """(place, literal name or compiled pattern) of every ``action=`` keyword that names an audit action."""
    found = []

    def names(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.IfExp):
            return names(node.body) + names(node.orelse)
        if isinstance(node, ast.JoinedStr):
            parts = [re.escape(part.value) if isinstance(part, ast.Constant) else "[a-z_]+" for part in node.values]
            return [re.compile("".join(parts))]
        return []

    for path in source_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "action":
                for name in names(node.value):
                    text = name if isinstance(name, str) else name.pattern
                    if "." in text:  # not argparse's action="store_true"
                        found.append((f"{path.relative_to(ROOT)}:{node.value.lineno}", name))
    return found


def test_the_scan_finds_the_actions_the_code_writes():
    found = written_actions()
    literal = {name for _place, name in found if isinstance(name, str)}
    assert {"certificates.certificate.issued", "alerts.arrears.opted_out", "registry.employer.updated"} <= literal
    assert any(isinstance(name, re.Pattern) and name.fullmatch("casework.case.treaty.submitted") for _p, name in found)
    assert len(found) >= 45


def test_every_action_the_code_writes_is_declared():
    undeclared = []
    for place, name in written_actions():
        if isinstance(name, str):
            if name not in actions:
                undeclared.append((place, name))
        elif not any(name.fullmatch(action.name) for action in actions):
            undeclared.append((place, name.pattern))
    assert undeclared == []


def test_the_actions_built_from_a_kind_or_a_state_are_all_declared():
    for kind in CaseKind:
        assert f"casework.case.{kind}.submitted" in actions
    for status in (CaseStatus.IN_PROGRESS, CaseStatus.DONE, CaseStatus.REJECTED):
        assert f"casework.case.{status}" in actions
    for state in EbdsImportJob.State:
        if state != EbdsImportJob.State.RUNNING:  # a running job writes no entry
            assert f"declarations.import_job.{state}" in actions


def test_every_declared_action_is_written_somewhere():
    found = written_actions()
    unused = [
        action.name
        for action in actions
        if not any(name == action.name if isinstance(name, str) else name.fullmatch(action.name) for _p, name in found)
    ]
    assert unused == []


def msgid(label) -> str:
    assert hasattr(label, "_args"), "labels are lazy translations (gettext_lazy)"
    return label._args[0]


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_every_label_is_translated(language):
    catalog = trans_real.translation(language)._catalog
    missing = [action.name for action in actions if not catalog.get(msgid(action.label))]
    assert missing == []


def test_every_label_is_in_the_english_catalog():
    text = (LOCALE / "en" / "LC_MESSAGES" / "django.po").read_text()
    missing = [action.name for action in actions if f'\nmsgid "{msgid(action.label)}"\n' not in text]
    assert missing == []


def test_names_are_dotted_and_declared_once():
    registry = AuditActionRegistry()
    registry.register("demo.thing.done", "Done")
    for bad in ("demo.thing.done", "Demo.Thing.done", "demo.done", "demo.thing." + "x" * 80):
        with pytest.raises(ValueError):
            registry.register(bad, "label")
    assert all(NAME.fullmatch(action.name) for action in actions)


@pytest.mark.django_db
def test_writing_an_undeclared_action_raises_and_writes_nothing():
    agent = make_staff("guichet.agadir", "agent")
    with pytest.raises(UndeclaredAuditAction, match=re.escape("certificates.certificate.isued")):
        audit_record(action="certificates.certificate.isued", obj=agent, actor=agent)
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "label"),
    [("en", "Password changed"), ("fr", "Mot de passe modifié"), ("ar", "تم تغيير كلمة المرور")],
)
def test_the_audit_trail_shows_the_label_of_each_action_and_its_name(language, label):
    supervisor = make_staff("chef.tanger", "agent", "supervisor")
    audit_record(action="accounts.user.password_changed", obj=supervisor, actor=supervisor)
    # An entry written before its action was declared (or after it was withdrawn) shows its name.
    AuditEntry.objects.create(action="legacy.thing.done", object_type="x", object_id="1", actor_label="system")
    client = verified_login(Client(headers={"accept-language": language}), supervisor)
    page = client.get("/staff/audit/").content.decode()
    assert f'<td>{label}<br><code class="muted">accounts.user.password_changed</code></td>' in page
    assert '<td>legacy.thing.done<br><code class="muted">legacy.thing.done</code></td>' in page
    with translation.override(language):
        assert str(actions.label("accounts.user.password_changed")) == label
