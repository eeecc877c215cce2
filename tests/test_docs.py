"""The project's rules live in the project: docs/security.md, docs/domain.md, docs/style.md (issue 22, item 6).

Nothing may point at the rule files that used to live outside the repository.
The names are assembled here so that this file does not name them itself.
"""

import os
import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
OUTSIDE_NAMES = (*(name + ".md" for name in ("SECURITY", "DOMAIN", "STYLE")), "../" + "shared")
# Not the project's files: version control, the virtualenv, and what .gitignore keeps out.
SKIPPED_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", "node_modules"}
SKIPPED_PATHS = {"var", "bench/out", "test-results"}


def project_files(under: Path = ROOT):
    for top, dirs, files in os.walk(under):
        relative_top = Path(top).relative_to(ROOT)
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in SKIPPED_DIRS
            and not d.endswith(".egg-info")
            and (relative_top / d).as_posix() not in SKIPPED_PATHS
        )
        for name in sorted(files):
            path = Path(top) / name
            if path.is_file():
                yield path


def references_outside(under: Path = ROOT) -> dict[str, list[str]]:
    """{file: the outside names it mentions}."""
    found = {}
    needles = [name.encode() for name in OUTSIDE_NAMES]
    for path in project_files(under):
        data = path.read_bytes()
        named = [needle.decode() for needle in needles if needle in data]
        if named:
            found[path.relative_to(ROOT).as_posix()] = named
    return found


def report(found: dict[str, list[str]]) -> str:
    lines = [f"{len(found)} files refer to rule files outside the repository:"]
    lines += [f"  {path}: {', '.join(names)}" for path, names in sorted(found.items())]
    return "\n".join(lines)


def test_the_three_rule_documents_are_in_the_repository():
    for name in ("security.md", "domain.md", "style.md"):
        assert (ROOT / "docs" / name).is_file(), name


def test_the_security_rules_keep_their_numbers_one_to_twenty_eight():
    text = (ROOT / "docs" / "security.md").read_text()
    assert re.findall(r"^### §(\d+) ", text, re.M) == [str(n) for n in range(1, 29)]


def test_the_documentation_points_only_to_the_project_s_own_rules():
    found = references_outside(ROOT / "docs")
    found.update({k: v for k, v in references_outside(ROOT).items() if k == "README.md"})
    print(report(found))
    assert not found, report(found)


def test_no_file_refers_to_rule_files_outside_the_repository():
    found = references_outside()
    print(report(found))
    assert not found, report(found)
