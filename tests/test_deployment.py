"""Production settings and behaviour under failure (docs/security.md §19, 20)."""

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from django.db import connection
from django.urls import reverse

from certificates.signing import create_dev_pki, create_qr_key
from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent


def production_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="damane.example.ma",
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"),
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
        SMS_BACKEND="twilio",
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN=secrets.token_hex(16),
        TWILIO_FROM_NUMBER="+212522000000",
        # Never the developer's var/ (bin/demo's development keys would be found there).
        DAMANE_VAR_DIR=tempfile.mkdtemp(prefix="damane-prod-"),
    )
    env.update(extra)
    return env


def test_check_deploy_with_production_settings_reports_nothing():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        # Production stamps every signature with trusted time (without it: damane.W002).
        env=production_env(DAMANE_TSA_URL="https://tsa.example.ma/"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_headers_are_strict(client, settings):
    settings.SECURE_HSTS_SECONDS = 365 * 24 * 3600
    settings.SECURE_SSL_REDIRECT = False
    response = client.get(reverse("home"), secure=True)
    policy = response["Content-Security-Policy"]
    for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in policy
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db(transaction=True)
def test_a_database_outage_answers_503_within_five_seconds(client, django_user_model):
    client.raise_request_exception = False
    client.force_login(django_user_model.objects.create_user(username="100234561", password="x" * 16))
    saved = dict(connection.settings_dict)
    connection.close()
    # Port 9 (discard) is closed here: the connection is refused, as when the server is down.
    connection.settings_dict.update(HOST="127.0.0.1", PORT="9")
    try:
        started = time.monotonic()
        response = client.get(reverse("certificates:index"))
        elapsed = time.monotonic() - started
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    assert response.status_code == 503
    assert elapsed < 5
    assert response["Retry-After"] == "30"
    assert "database" in response.content.decode().lower() or "base de données" in response.content.decode()


# --- The development CA is refused in production (issue 18) ------------------------------


def development_keys(directory: Path) -> dict:
    create_dev_pki(directory)
    create_qr_key(directory / "qr-keys")
    return {
        "DAMANE_SIGNING_KEY_PATH": str(directory / "signing-key.pem"),
        "DAMANE_SIGNING_CERT_PATH": str(directory / "signing-cert.pem"),
        "DAMANE_SIGNING_CHAIN_PATHS": str(directory / "root-ca.pem"),
        "DAMANE_QR_KEYS_DIR": str(directory / "qr-keys"),
    }


def check_deploy(env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_check_deploy_refuses_a_production_deployment_signing_with_the_development_ca(tmp_path):
    # The deployer set the key paths, but they lead to init_signing's files: an error, named.
    result = check_deploy(production_env(**development_keys(tmp_path)))
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "damane.E001" in output
    assert "development CA" in output
    # DAMANE_DEV_SIGNING defaults to false without DEBUG: the same keys, said on purpose, only warn.
    demo = check_deploy(production_env(DAMANE_DEV_SIGNING="true", **development_keys(tmp_path / "demo")))
    assert "damane.E001" not in demo.stdout + demo.stderr
    assert "damane.W001" in demo.stdout + demo.stderr


@pytest.mark.django_db
def test_readiness_answers_503_naming_the_development_ca_in_production(client, settings, signing_dir):
    settings.DEBUG = False
    settings.DAMANE_DEV_SIGNING = False
    response = client.get("/health/ready/")
    assert response.status_code == 503
    body = response.json()
    assert "development CA" in body["checks"]["SigningKey"]
    assert str(signing_dir) not in response.content.decode()
    # The same stack declared a demonstration one is ready.
    settings.DAMANE_DEV_SIGNING = True
    assert client.get("/health/ready/").status_code == 200


def test_the_development_signing_default_follows_debug():
    code = "from django.conf import settings; print(settings.DAMANE_DEV_SIGNING, settings.DAMANE_SIGNING_AUTO_CREATE)"
    run = [sys.executable, "-c", f"import django; django.setup(); {code}"]

    def dev_signing(env):
        result = subprocess.run(run, cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "damane.settings"},
                                capture_output=True, text=True, timeout=60)  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    assert dev_signing(production_env()) == ["False", "False"]
    assert dev_signing(production_env(DJANGO_DEBUG="true")) == ["True", "True"]


# --- The image's health check against a server that knows its real host name ------------


@pytest.mark.django_db(transaction=True)
def test_the_image_health_check_passes_when_allowed_hosts_names_the_real_host(tmp_path):
    port = free_port()
    env = production_env(
        DJANGO_ALLOWED_HOSTS="damane.example.ma,www.damane.example.ma",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        DJANGO_SECURE_SSL_REDIRECT="true",
    )
    (tmp_path / "metrics").mkdir()
    # As in the image: static files collected (the 400 page links its stylesheet).
    env["DJANGO_STATIC_ROOT"] = str(tmp_path / "static")
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
                   cwd=ROOT, env=env, check=True, timeout=300)  # fmt: skip
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn), "-c", "docker/gunicorn.conf.py", "damane.wsgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        healthcheck = [sys.executable, "docker/healthcheck.py"]
        deadline = time.monotonic() + 60
        result = None
        while time.monotonic() < deadline and server.poll() is None:
            result = subprocess.run(healthcheck, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
            if result.returncode == 0:
                break
            time.sleep(0.5)
        assert result is not None and result.returncode == 0, (result and result.stderr, server.poll())
        # What the image used to ask (Host: 127.0.0.1) is refused by this server: 400.
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live/", timeout=10)
        assert refused.value.code == 400
        # A server that does not answer makes the check fail, in one line.
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        down = subprocess.run(healthcheck, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
        assert down.returncode == 1
        assert down.stderr.startswith("liveness: no answer")
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_the_health_check_sends_the_first_allowed_host_and_the_bound_port():
    sys.path.insert(0, str(ROOT / "docker"))
    try:
        import healthcheck
    finally:
        sys.path.remove(str(ROOT / "docker"))
    assert healthcheck.allowed_host("damane.cnss.ma, www.damane.cnss.ma") == "damane.cnss.ma"
    assert healthcheck.allowed_host(".cnss.ma") == "cnss.ma"
    assert healthcheck.allowed_host("*") == "localhost"
    assert healthcheck.allowed_host(None) == "localhost"
    assert healthcheck.port("0.0.0.0:9000") == 9000
    assert healthcheck.port(None) == 8000


# --- docker-compose.yml and .env.example ------------------------------------------------


def env_example() -> dict[str, str]:
    """The variables .env.example sets (NAME=value) and documents commented out (# NAME=)."""
    found = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^(?:# )?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def variables_the_code_reads() -> set[str]:
    names = set()
    for path in [*(ROOT / "damane").glob("*.py"), ROOT / "docker" / "gunicorn.conf.py"]:
        text = path.read_text()
        names |= set(re.findall(r"env_(?:str|bool|int|float|list)\(\s*\"([A-Z0-9_]+)\"", text))
        names |= set(re.findall(r"_int\(\"([A-Z0-9_]+)\"", text))
        names |= set(re.findall(r"os\.environ\.get\(\"([A-Z0-9_]+)\"", text))
    names |= set(re.findall(r"\$\{([A-Z0-9_]+)", (ROOT / "docker-compose.yml").read_text()))
    return names - {"DJANGO_SETTINGS_MODULE"}


def test_env_example_documents_every_variable_the_settings_read():
    documented = env_example()
    missing = sorted(variables_the_code_reads() - set(documented))
    assert not missing, f"not in .env.example: {missing}"
    text = (ROOT / ".env.example").read_text()
    for name in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DAMANE_SITE_URL", "DAMANE_DEV_SIGNING", "SMS_BACKEND"):
        block = text[: text.index(f"{name}=")].rsplit("\n\n", 1)[-1]
        assert "[production: set]" in block, name
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


def test_env_example_values_give_working_settings(tmp_path):
    values = {
        name: value
        for name, value in env_example().items()
        if f"\n{name}=" in "\n" + (ROOT / ".env.example").read_text()
    }
    env = {**production_env(), **values, "DJANGO_DEBUG": "false", "DAMANE_VAR_DIR": str(tmp_path)}
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DAMANE_SIGNING_KEY_PATH, s.DAMANE_SIGNING_CHAIN_PATHS[0], s.MEDIA_ROOT, s.DAMANE_DEV_SIGNING)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**env, "DJANGO_SETTINGS_MODULE": "damane.settings"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    key, chain, media, dev = result.stdout.split()
    assert key == str(tmp_path / "signing" / "signing-key.pem")
    assert chain == str(tmp_path / "signing" / "root-ca.pem")
    assert media == str(tmp_path / "private")
    assert dev == "True"  # the example starts a demonstration stack; production sets false


@pytest.fixture
def rendered_compose(tmp_path):
    """`docker-compose config` of the committed file with a production .env (not the developer's)."""
    if not shutil.which("docker-compose"):
        pytest.skip("docker-compose is not installed (.ci/run installs it)")
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    example = (ROOT / ".env.example").read_text()
    production = {
        "DJANGO_SECRET_KEY": "compose-test-secret",
        "DJANGO_ALLOWED_HOSTS": "damane.example.ma",
        "DAMANE_DEV_SIGNING": "false",
        "DAMANE_SIGNING_SOURCE": "/srv/fund-pki",
        "DAMANE_SIGNING_KEY_PATH": "/run/secrets/damane-signing/signing-key.pem",
        "DAMANE_SIGNING_CERT_PATH": "/run/secrets/damane-signing/signing-cert.pem",
        "DAMANE_SIGNING_CHAIN_PATHS": "/run/secrets/damane-signing/root.pem",
        "EMAIL_HOST": "smtp.example.ma",
        "GUNICORN_WORKERS": "9",
    }
    for name, value in production.items():
        example, count = re.subn(rf"^(# )?{name}=.*$", f"{name}={value}", example, flags=re.MULTILINE)
        assert count == 1, name
    (tmp_path / ".env").write_text(example)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DAMANE_", "POSTGRES_"))}
    result = subprocess.run(["docker-compose", "config"], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout), production


def test_every_app_service_receives_every_setting_and_the_read_only_key(rendered_compose):
    config, production = rendered_compose
    services = config["services"]
    for name in ("web", "worker", "scheduler", "migrate"):
        environment = services[name]["environment"]
        # Every variable .env sets reaches the process, the fund's key paths included.
        assert set(name for name, value in env_example().items()) - set(environment) <= {
            name for name in env_example() if f"# {name}=" in (ROOT / ".env.example").read_text()
        } - set(production)
        for variable, value in production.items():
            assert environment[variable] == value, (name, variable)
        assert environment["DJANGO_DEBUG"] == "false"
        assert environment["DAMANE_DEV_SIGNING"] == "false"
        volumes = services[name]["volumes"]
        [key_mount] = [v for v in volumes if "/run/secrets/damane-signing" in str(v)]
        assert key_mount.startswith("/srv/fund-pki:/run/secrets/damane-signing") and key_mount.endswith(":ro")
    assert services["worker"]["environment"]["DATABASE_POOL"] == "false"


def test_db_and_redis_serve_this_machine_and_web_binds_no_fixed_host_port(rendered_compose):
    config, _ = rendered_compose
    services = config["services"]
    assert services["db"]["ports"] == ["127.0.0.1:5432:5432/tcp"]
    assert services["redis"]["ports"] == ["127.0.0.1:6379:6379/tcp"]
    [web_port] = services["web"]["ports"]
    # 127.0.0.1, an ephemeral host port, container port 8000: `--scale web=N` can start N.
    assert re.fullmatch(r"127\.0\.0\.1::8000(/tcp)?", web_port), web_port
    # The database and Redis get no application secret.
    for name in ("db", "redis"):
        assert "DJANGO_SECRET_KEY" not in services[name].get("environment", {})


def docker_daemon_answers() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


@pytest.mark.skipif(not docker_daemon_answers(), reason="no Docker daemon answers here (docker info fails)")
def test_the_image_builds_and_the_stack_becomes_healthy(tmp_path):
    project = f"damane-test-{os.getpid()}"
    env = {**os.environ, "COMPOSE_PROJECT_NAME": project}
    # A copy of the tree with the example .env: the developer's .env and var/ stay untouched.
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "var", ".env", "__pycache__"))
    shutil.copy(ROOT / ".env.example", source / ".env")
    compose = ["docker-compose", "-f", str(source / "docker-compose.yml")]
    try:
        subprocess.run([*compose, "up", "-d", "--build"], env=env, check=True, timeout=1800)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            state = subprocess.run(["docker", "inspect", "-f", "{{.State.Health.Status}}", f"{project}_web_1"],
                                   capture_output=True, text=True).stdout.strip()  # fmt: skip
            if state == "healthy":
                break
            time.sleep(5)
        assert state == "healthy"
    finally:
        subprocess.run([*compose, "down", "-v"], env=env, timeout=300)
