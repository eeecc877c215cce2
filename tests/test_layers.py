"""The layers of the code (docs/architecture.md): import-linter's contracts in pyproject.toml.

bin/test runs ``lint-imports`` before pytest; these tests hold the same rule from
pytest, prove that the contracts refuse an upward import, and that no app
escapes them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]


def _layers() -> list[str]:
    (contract,) = [c for c in _config()["contracts"] if c["type"] == "layers"]
    return contract["layers"]


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
    )


def _copy_packages(target: Path) -> None:
    """The packages the contracts read, Python files only, and the contracts."""
    for package in _config()["root_packages"]:
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__", "*.html"))
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")


def test_the_code_keeps_its_layers():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_app_is_in_a_layer():
    """A new app (a folder with apps.py) must be placed: otherwise it could import anything."""
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")}
    placed = {name.strip() for layer in _layers() for name in layer.split("|")}
    assert apps - placed == set()
    assert set(_config()["root_packages"]) == placed


def test_no_exemption_list():
    for contract in _config()["contracts"]:
        assert "ignore_imports" not in contract, contract["name"]
        assert "unmatched_ignore_imports_alerting" not in contract, contract["name"]


def test_the_kernel_is_at_the_bottom_and_the_project_on_top():
    layers = _layers()
    assert layers[-1] == "damane"
    assert layers[0] == "portal"


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # The examples of issue 22: each arrow that used to run back up.
        ("audit/services.py", "from backoffice import services as _probe", "audit is not allowed to import backoffice"),
        ("registry/services.py", "from declarations import models as _probe", "registry is not allowed to import"),
        ("casework/views.py", "import treaties.selectors as _probe", "casework is not allowed to import treaties"),
        ("damane/views.py", "from casework import forms as _probe", "damane is not allowed to import casework"),
        # Inside a function counts too.
        ("damane/health.py", "def _probe():\n    from certificates import signing", "damane is not allowed to import"),
        # Two apps of one layer import nothing of each other.
        ("alerts/rules.py", "import treaties.rules as _probe", "alerts is not allowed to import treaties"),
        ("verification/views.py", "import backoffice.views as _probe", "verification is not allowed to import"),
    ],
)
def test_an_upward_import_breaks_the_contracts(tmp_path, module, line, broken):
    _copy_packages(tmp_path)
    path = tmp_path / module
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + line + "\n", encoding="utf-8")
    result = _lint(tmp_path)
    assert result.returncode == 1, result.stdout
    assert broken in result.stdout
