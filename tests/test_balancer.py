"""The balancer of the compose file (issue 24, item 3): HAProxy accepts its configuration, which
sends traffic only to web replicas whose readiness answers 200, found by name (`--scale web=N`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "docker" / "haproxy" / "haproxy.cfg"


def haproxy() -> str | None:
    return shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.access("/usr/sbin/haproxy", os.X_OK) else None)


@pytest.mark.skipif(haproxy() is None, reason="Debian's haproxy is not installed (.ci/run installs it)")
def test_haproxy_accepts_the_compose_configuration():
    result = subprocess.run(
        [haproxy(), "-c", "-f", str(CONFIG)], env={**os.environ, "DAMANE_HEALTH_HOST": "damane.example.ma"},
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_balancer_checks_readiness_and_finds_every_replica():
    text = CONFIG.read_text()
    assert re.search(r"http-check send meth GET uri /health/ready/ hdr Host", text)
    assert "http-check expect status 200" in text
    # Replicas by the compose service name, re-resolved: scaling web up or down needs no edit.
    assert re.search(r"server-template web \d+ web:8000 check resolvers docker", text)
    # A request that could not connect to a dead replica goes to another; a GET it dropped unanswered
    # too; a POST already sent is never repeated.
    assert "option redispatch" in text
    assert "retry-on conn-failure empty-response" in text
    assert "http-request disable-l7-retry unless METH_GET" in text
