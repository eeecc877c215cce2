"""The Docker build context keeps keys, databases, environments, .git and var/ out (issue 9, item 2).

The patterns are applied with docker-py's own implementation of .dockerignore
matching, the one `docker build` clients in Python use.
"""

import shutil
from pathlib import Path

import pytest
from docker.utils.build import exclude_paths

ROOT = Path(__file__).resolve().parent.parent

PLANTED = [
    ".venv/bin/python",
    ".venv/lib/python3.11/site-packages/django/__init__.py",
    "var/damane.sqlite3",
    "var/signing/root-ca-key.pem",
    "var/signing/root-ca.pem",
    "var/signing/signing-key.pem",
    "var/signing/qr-keys/k1.pem",
    "var/private/certificates/2026/AT-2026-00000001.pdf",
    "var/sms/20261129-message.txt",
    ".git/config",
    ".git/objects/ab/cdef",
    ".env",
    ".env.production",
    "accounts/.env",
    "damane/fund-signing.key",
    "certificates/keys/signing-key.pem",
    "db.sqlite3",
    "accounts/__pycache__/models.cpython-311.pyc",
    "tests/data/keys/test-key.pem",
]
FORBIDDEN = (".venv", "var", ".git", ".env")
FORBIDDEN_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".sqlite3", ".pyc")


def patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def leaked(paths) -> list[str]:
    bad = []
    for path in paths:
        parts = Path(path).parts
        if parts and (parts[0] in FORBIDDEN or parts[0].startswith(".env") or path.endswith(FORBIDDEN_SUFFIXES)):
            bad.append(path)
    return bad


@pytest.fixture
def tree(tmp_path):
    """The project's files plus everything a developer's checkout may hold that must not be built in."""
    root = tmp_path / "context"
    shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns(".venv", ".git", "var", "__pycache__", "*.pyc"))
    for relative in PLANTED:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"secret")
    return root


def test_no_key_database_environment_git_or_var_reaches_the_build_context(tree):
    context = exclude_paths(str(tree), patterns())
    assert leaked(context) == []
    for relative in PLANTED:
        assert relative not in context


def test_the_build_context_still_has_what_the_image_runs(tree):
    context = exclude_paths(str(tree), patterns())
    for needed in (
        "Dockerfile",
        "manage.py",
        "requirements.lock",
        "docker/entrypoint.sh",
        "docker/gunicorn.conf.py",
        "damane/settings.py",
        "accounts/migrations/0001_initial.py",
        "templates/base.html",
        "static/css/damane.css",
        "locale/fr/LC_MESSAGES/django.po",
    ):
        assert needed in context, needed


def test_this_checkout_would_send_nothing_it_must_not():
    assert leaked(exclude_paths(str(ROOT), patterns())) == []
