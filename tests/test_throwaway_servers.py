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


def _default_signals():
    # Whatever the test run inherited (SIGINT is ignored under `bin/test &` in a
    # script and some CI wrappers), the child starts with the default dispositions,
    # as from an interactive shell.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


def start_with_throwaway_servers():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.servers", "--", "sleep", "120"],
        cwd=ROOT, env=nothing_answers_env(), stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=_default_signals,
    )  # fmt: skip
    ports = []
    lines = []
    deadline = time.monotonic() + 120
    while len(ports) < 2 and time.monotonic() < deadline:
        line = process.stderr.readline()
        lines.append(line)
        match = re.search(r"throwaway \w+ on port (\d+)", line)
        if match:
            ports.append(int(match.group(1)))
    assert len(ports) == 2 and all(answers("127.0.0.1", port) for port in ports), "".join(lines)
    return process, ports


@pytest.fixture
def sigint_ignored_by_the_test_run():
    """The test run itself ignores SIGINT, as when it was started in the background of a script."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_stops_the_throwaway_servers(sigint_ignored_by_the_test_run):
    process, ports = start_with_throwaway_servers()
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=60)
    rest = process.stderr.read()
    assert not any(answers("127.0.0.1", port) for port in ports)
    # Stopped quietly: no traceback for a newcomer to read as an error.
    assert "Traceback" not in rest and "KeyboardInterrupt" not in rest, rest
    assert process.returncode == 128 + signal.SIGINT


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_stop_the_throwaway_servers_and_the_command(signum):
    process, ports = start_with_throwaway_servers()
    # The command starts just after the servers' lines.
    deadline = time.monotonic() + 30
    found = []
    while not found and time.monotonic() < deadline:
        found = subprocess.run(["pgrep", "-x", "-P", str(process.pid), "sleep"], capture_output=True, text=True)
        found = found.stdout.split()
        time.sleep(0.05)
    [sleep_pid] = found
    # Sent to the runner alone, as a service manager or a closing terminal would.
    process.send_signal(signum)
    process.wait(timeout=60)
    rest = process.stderr.read()
    assert not any(answers("127.0.0.1", port) for port in ports)
    assert "Traceback" not in rest, rest
    assert process.returncode == 128 + signum
    # The command it ran was stopped too, not left behind.
    assert subprocess.run(["kill", "-0", str(sleep_pid)], capture_output=True).returncode != 0
