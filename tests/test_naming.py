"""Issue 22, item 7: one concept, one name in code. A request to the agency is a ``Case`` in Python
(``request`` is Django's ``HttpRequest``) and a "request" on the page and in the address
(docs/decisions.md, "Requests to the agency")."""

import ast
import pathlib

from django.urls import reverse

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Apps whose code handles requests to the agency.
CASE_APPS = ("casework", "backoffice", "treaties")


def names(app):
    for path in (ROOT / app).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                yield f"{path.relative_to(ROOT)}:{node.lineno}", node.name


def test_python_names_of_requests_to_the_agency_say_case():
    wrong = [
        (place, name) for app in CASE_APPS for place, name in names(app) if "request" in name.lower().replace("_", "")
    ]
    assert wrong == []


def test_people_still_read_and_type_requests():
    assert reverse("casework:list") == "/requests/"
    assert reverse("casework:treaty") == "/requests/treaty/"
    assert reverse("backoffice:requests") == "/staff/requests/"
    assert reverse("backoffice:request", args=["DEM-2026-000001"]) == "/staff/requests/DEM-2026-000001/"
