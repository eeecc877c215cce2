"""The lockfiles pin every declared dependency, with hashes, at a version pyproject.toml allows."""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pins(lock: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for line in (ROOT / lock).read_text().splitlines():
        match = PIN.match(line)
        if match:
            found.setdefault(canonicalize_name(match[1]), set()).add(match[2])
    return found


def declared(extra: str | None = None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return [Requirement(name) for name in names]


@pytest.mark.parametrize(("lock", "extra"), [("requirements.lock", None), ("requirements-test.lock", "test")])
def test_the_lock_pins_every_declared_dependency_within_its_range(lock, extra):
    locked = pins(lock)
    stale = []
    for requirement in declared(extra):
        versions = locked.get(canonicalize_name(requirement.name))
        if not versions or not all(requirement.specifier.contains(v, prereleases=True) for v in versions):
            stale.append(str(requirement))
    assert not stale, f"{lock} is stale for {stale}: run bin/lock"


def test_every_pin_carries_a_hash():
    for lock in ("requirements.lock", "requirements-test.lock"):
        text = (ROOT / lock).read_text()
        for block in re.split(r"\n(?=[A-Za-z0-9])", text):
            if PIN.match(block):
                assert "--hash=sha256:" in block, f"{lock}: {block.splitlines()[0]} has no hash"


def test_the_test_lock_keeps_the_runtime_pins():
    runtime, test = pins("requirements.lock"), pins("requirements-test.lock")
    assert {name: test.get(name) for name in runtime} == runtime


def test_the_runtime_lock_carries_no_test_tool():
    # Pillow is in both: WeasyPrint needs it at run time.
    tools = {"pytest", "pytest-django", "hypothesis", "playwright", "ruff", "freezegun"}
    assert not tools & pins("requirements.lock").keys()
