"""The first hour (issue 18): bin/demo runs every time, missing packages are named at once.

bin/demo runs here against a temporary DAMANE_VAR_DIR on a free port: the
developer's var/ and port 8000 are never touched.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent


# --- bin/demo, twice --------------------------------------------------------------------


def demo_env(var_dir: Path, port: int) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "DAMANE_"))
    }
    env.update(DAMANE_VAR_DIR=str(var_dir), PORT=str(port))
    return env


def run_demo_until_it_answers(var_dir: Path, *args: str, timeout: float = 600) -> str:
    """Start bin/demo, wait for the portal's home page, stop it with Ctrl-C; its whole output."""
    port = free_port()
    log = var_dir.parent / f"demo-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["bin/demo", *args], cwd=ROOT, env=demo_env(var_dir, port), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )  # fmt: skip
        try:
            deadline = time.monotonic() + timeout
            status = None
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                        status = response.status
                        break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    time.sleep(0.5)
            assert status == 200, log.read_text()[-4000:]
            # Ctrl-C in the terminal: the whole foreground group gets SIGINT.
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    return log.read_text()


def assert_no_error_looking_lines(output: str):
    needles = (
        "Traceback",
        "Error",
        "error:",
        "WARNING kombu",
        "already exists",
        "No hostname",
        "This is a development server",
    )
    for needle in needles:
        assert needle not in output, f"{needle!r} in:\n{output[-4000:]}"


def test_bin_demo_runs_a_second_time_and_keeps_the_data_and_the_keys(tmp_path):
    var_dir = tmp_path / "var"
    first = run_demo_until_it_answers(var_dir)
    assert_no_error_looking_lines(first)
    assert "Development signing keys ready" in first
    # On an empty database the declarations create the people, the records complete them.
    created = re.search(r"(\d+) people \((\d+) created, (\d+) updated\)", first)
    assert created and created.group(1) == created.group(2) != "0" and created.group(3) == "0", first
    assert ".venv/bin/python manage.py demo_totp" in first
    key = (var_dir / "signing" / "signing-key.pem").read_bytes()
    database = (var_dir / "damane.sqlite3").stat().st_size

    second = run_demo_until_it_answers(var_dir)
    assert_no_error_looking_lines(second)
    assert "Signing keys kept" in second
    assert re.search(r"\d+ people \(0 created, 0 updated\)", second), second
    # The same key signs: certificates issued during the first run still verify.
    assert (var_dir / "signing" / "signing-key.pem").read_bytes() == key
    assert (var_dir / "damane.sqlite3").stat().st_size >= database


def test_bin_demo_refuses_an_unknown_option_and_runs_nothing(tmp_path):
    result = subprocess.run(
        ["bin/demo", "--force"], cwd=ROOT, env=demo_env(tmp_path / "var", free_port()),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "usage: bin/demo [--reset]" in result.stderr
    assert not (tmp_path / "var").exists()


def test_bin_demo_says_when_its_port_is_taken(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            ["bin/demo"], cwd=ROOT, env=demo_env(tmp_path / "var", port), capture_output=True, text=True, timeout=300
        )
    assert result.returncode == 1
    assert f"Port {port} is taken" in result.stderr
    assert not (tmp_path / "var" / "damane.sqlite3").exists()


# --- Missing Debian packages: one line for all ------------------------------------------

# What _env.sh itself runs: the rest of PATH is a directory of stubs.
BASICS = ("bash", "cat", "dirname", "grep", "awk", "tr", "rm", "env")


def stub_path(tmp_path: Path, **stubs: str) -> Path:
    """A PATH directory holding the basics and the given stubs (name -> shell body)."""
    directory = tmp_path / "bin"
    directory.mkdir()
    for name in BASICS:
        real = subprocess.run(["bash", "-c", f"command -v {name}"], capture_output=True, text=True).stdout.strip()
        (directory / name).symlink_to(real)
    for name, body in stubs.items():
        path = directory / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
    return directory


def check(tmp_path: Path, mode: str, path: Path, **env) -> subprocess.CompletedProcess:
    base = {"PATH": str(path), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    return subprocess.run(
        [str(path / "bash"), "bin/_env.sh", "--check", mode],
        cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_every_missing_package_is_named_in_one_apt_get_line(tmp_path):
    closed = f"127.0.0.1:{free_port()}"
    path = stub_path(
        tmp_path,
        # A Python without ensurepip (Debian without python3-venv).
        python3='case "$*" in *ensurepip*) exit 1;; *) exec /usr/bin/python3 "$@";; esac',
        # Pango there, HarfBuzz's subsetter not.
        ldconfig=r"printf '\tlibpango-1.0.so.0 (libc6) => /lib/a\n\tlibpangoft2-1.0.so.0 (libc6) => /lib/b\n'",
        # Only DejaVu installed.
        **{"fc-list": "echo '/usr/share/fonts/DejaVuSans.ttf: DejaVu Sans:style=Book'"},
        msgfmt="true",
        msgattrib="true",
        pdftoppm="true",
        # No chromium, no pdfsig, no PostgreSQL or Redis, and nothing answers.
    )
    result = check(
        tmp_path, "test", path,
        DAMANE_PROBE_POSTGRES=closed, DAMANE_PROBE_REDIS=closed,
        DAMANE_PG_CTL="/nonexistent/pg_ctl", DAMANE_REDIS_SERVER="/nonexistent/redis-server",
        DAMANE_PGBOUNCER="/nonexistent/pgbouncer", DAMANE_SOFTHSM="/nonexistent/softhsm2-util",
        DAMANE_HAPROXY="/nonexistent/haproxy",
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, result.stderr
    [install] = [line for line in lines if "apt-get install" in line]
    named = install.split("sudo apt-get install -y ", 1)[1].split()
    assert named == [
        "python3-venv",
        "libharfbuzz-subset0",
        "fonts-noto-core",
        "fonts-noto-mono",
        "chromium",
        "poppler-utils",
        "softhsm2",
        "haproxy",
        "pgbouncer",
        "postgresql",
        "redis-server",
    ]


def test_a_running_server_or_a_url_makes_its_package_unnecessary(tmp_path):
    import socket

    path = stub_path(
        tmp_path,
        python3='exec /usr/bin/python3 "$@"',
        ldconfig=r"printf '\tlibpango-1.0.so.0 (x)\n\tlibpangoft2-1.0.so.0 (x)\n\tlibharfbuzz-subset.so.0 (x)\n'",
        **{"fc-list": "echo 'Noto Naskh Arabic'; echo 'DejaVu Sans'; echo 'Noto Sans Mono'"},
        msgfmt="true",
        msgattrib="true",
        pdftoppm="true",
        pdfsig="true",
        chromium="true",
        pgbouncer="true",
        haproxy="true",
        **{"softhsm2-util": "true"},
    )
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        result = check(
            tmp_path, "test", path,
            DAMANE_PROBE_POSTGRES=f"127.0.0.1:{listening.getsockname()[1]}",
            DAMANE_PG_CTL="/nonexistent/pg_ctl", DAMANE_REDIS_SERVER="/nonexistent/redis-server",
            REDIS_URL="redis://127.0.0.1:6379/15", DAMANE_SOFTHSM=str(path / "softhsm2-util"),
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Every Debian package bin/test needs is installed." in result.stdout
    # The demo needs neither the browser nor the servers.
    demo = check(tmp_path, "demo", path)
    assert demo.returncode == 0, demo.stderr


# --- The test run ends cleanly ----------------------------------------------------------


def test_a_browser_test_leaves_no_connection_to_the_test_database(transactional_db, monkeypatch):
    from django.db import connection
    from playwright.sync_api import sync_playwright

    from registry.models import Insured

    def other_sessions() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return cursor.fetchone()[0]

    before = other_sessions()
    # As the browser tests do: the ORM next to playwright's event loop.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright():
        # A query inside the block, as the browser tests make to check what the page shows.
        Insured.objects.count()
    # Otherwise the test database cannot be dropped at the end of the run
    # ("database test_test is being accessed by other users").
    assert other_sessions() == before


def test_the_demo_runs_tasks_in_process_without_touching_a_broker(tmp_path):
    """No "WARNING kombu.connection No hostname was supplied" before each SMS code of the demo."""
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from accounts.tasks import send_code_sms\n"
        "print(settings.CELERY_TASK_ALWAYS_EAGER, settings.CELERY_BROKER_URL)\n"
        "try:\n"
        "    send_code_sms.apply_async(args=(0,))\n"
        "except Exception as exc:\n"
        "    print('ran in-process:', type(exc).__name__)\n"
    )
    env = {
        **demo_env(tmp_path / "var", free_port()),
        "DJANGO_DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "damane.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("True memory://"), result.stdout
    # The task ran here (no tables in this empty database: it failed in-process, not at a broker).
    assert "ran in-process" in result.stdout
    assert "kombu" not in result.stderr and "No hostname" not in result.stderr, result.stderr


# --- A half-made .venv is rebuilt, an interrupted install done again --------------------


@pytest.fixture
def scratch_checkout(tmp_path):
    """bin/_env.sh in a scratch directory, with a Python whose venv and pip are stubs that log."""
    (tmp_path / "bin").mkdir()
    shutil.copy(ROOT / "bin" / "_env.sh", tmp_path / "bin" / "_env.sh")
    (tmp_path / "requirements-test.lock").write_text("# a lock\n")
    log = tmp_path / "calls.log"
    venv_python = tmp_path / "venv-python"
    venv_python.write_text(f'#!/bin/bash\necho "$*" >>{log}\nexit 0\n')
    venv_python.chmod(0o755)
    python = tmp_path / "python3"
    python.write_text(
        "#!/bin/bash\n"
        f'if [ "$1 $2" = "-m venv" ]; then echo "venv $3" >>{log}; mkdir -p "$3/bin"; '
        f'cp {venv_python} "$3/bin/python"; exit 0; fi\n'
        f'exec {sys.executable} "$@"\n'
    )
    python.chmod(0o755)
    return tmp_path, log


def ensure_venv(directory: Path) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "HOME": str(directory), "PYTHON": str(directory / "python3")}
    return subprocess.run(
        ["bash", "-c", "source bin/_env.sh && ensure_venv"],
        cwd=directory, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_a_venv_without_pip_is_rebuilt_and_installed_once(scratch_checkout):
    directory, log = scratch_checkout
    # Made while ensurepip was missing (or interrupted): a python that cannot run pip.
    (directory / ".venv" / "bin").mkdir(parents=True)
    broken = directory / ".venv" / "bin" / "python"
    broken.write_text("#!/bin/sh\necho 'No module named pip' >&2\nexit 1\n")
    broken.chmod(0o755)

    first = ensure_venv(directory)
    assert first.returncode == 0, first.stderr
    assert ".venv is incomplete" in first.stdout and "rebuilding it" in first.stdout
    calls = log.read_text().splitlines()
    assert calls[0] == "venv .venv"
    assert "-m pip install --quiet --require-hashes -r requirements-test.lock" in calls
    assert (directory / ".venv" / ".damane-installed").read_text().startswith("requirements-test.lock ")

    # Complete now: the next run installs nothing.
    second = ensure_venv(directory)
    assert second.returncode == 0, second.stderr
    assert "installing" not in second.stdout
    assert log.read_text().splitlines()[len(calls) :] == ["-m pip --version"]


def test_an_interrupted_install_or_a_changed_lock_installs_again(scratch_checkout):
    directory, _log = scratch_checkout
    assert ensure_venv(directory).returncode == 0
    # Interrupted: the stamp is written only after a complete install.
    (directory / ".venv" / ".damane-installed").unlink()
    again = ensure_venv(directory)
    assert "installing Python packages" in again.stdout
    # The lock changed (its content, not its date).
    assert "installing" not in ensure_venv(directory).stdout
    (directory / "requirements-test.lock").write_text("# another lock\n")
    assert "installing Python packages" in ensure_venv(directory).stdout
