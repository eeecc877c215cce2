"""bin/test on a machine where no PostgreSQL or Redis answers (issue 14).

The machine's shared servers are never touched: the "nothing answers" case is
made by pointing the probes at closed ports, and every server here is a
throwaway one on a free port.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.servers import answers, free_port

ROOT = Path(__file__).resolve().parent.parent


def nothing_answers_env(**extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL") and not k.startswith("PYTEST")
    }
    env.update(
        DAMANE_PROBE_POSTGRES=f"127.0.0.1:{free_port()}",
        DAMANE_PROBE_REDIS=f"127.0.0.1:{free_port()}",
        DJANGO_DEBUG="true",
        CELERY_TASK_ALWAYS_EAGER="true",
        **extra,
    )
    return env


@pytest.mark.postgres
def test_with_no_server_answering_the_database_tests_pass_against_throwaway_servers():
    result = subprocess.run(
        [sys.executable, "-m", "tests.servers", "--", sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/accounts/test_one_time_codes.py"],
        cwd=ROOT, env=nothing_answers_env(), capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert re.search(r"\d+ passed", result.stdout)
    pg_port = int(re.search(r"throwaway PostgreSQL on port (\d+)", result.stderr).group(1))
    redis_port = int(re.search(r"throwaway Redis on port (\d+)", result.stderr).group(1))
    # Stopped once the run ended.
    assert not answers("127.0.0.1", pg_port) and not answers("127.0.0.1", redis_port)


def test_with_the_binaries_missing_one_line_says_what_to_install_and_nothing_runs(tmp_path):
    marker = tmp_path / "ran"
    result = subprocess.run(
        [sys.executable, "-m", "tests.servers", "--", sys.executable, "-c", f"open({str(marker)!r}, 'w')"],
        cwd=ROOT,
        env=nothing_answers_env(DAMANE_PG_CTL="/nonexistent/pg_ctl", DAMANE_REDIS_SERVER="/nonexistent/redis-server"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert "sudo apt-get install -y postgresql redis-server" in line
    assert "docker compose up -d db redis" in line
    assert not marker.exists()


def test_servers_already_answering_are_used_and_nothing_is_started():
    env = nothing_answers_env(DAMANE_PG_CTL="/nonexistent/pg_ctl", DAMANE_REDIS_SERVER="/nonexistent/redis-server")
    env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/test"
    env["REDIS_URL"] = "redis://127.0.0.1:6379/15"
    result = subprocess.run(
        [sys.executable, "-m", "tests.servers", "--", sys.executable, "-c", "print('ran')"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ran"
    assert "throwaway" not in result.stderr


def test_ctrl_c_stops_the_throwaway_servers():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.servers", "--", "sleep", "120"],
        cwd=ROOT, env=nothing_answers_env(), stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    ports = []
    deadline = time.monotonic() + 120
    while len(ports) < 2 and time.monotonic() < deadline:
        line = process.stderr.readline()
        match = re.search(r"throwaway \w+ on port (\d+)", line)
        if match:
            ports.append(int(match.group(1)))
    assert len(ports) == 2 and all(answers("127.0.0.1", port) for port in ports)
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=60)
    assert not any(answers("127.0.0.1", port) for port in ports)
