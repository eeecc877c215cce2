"""Issue 10: the production connection settings the benchmarks measure (bench/, docs/scaling.md)."""

import json
import subprocess
import sys
from pathlib import Path

from tests.test_deployment import production_env

ROOT = Path(__file__).resolve().parent.parent
SHOW = "from django.conf import settings; import json; print(json.dumps(settings.DATABASES['default'], default=str))"


def database_settings(**extra) -> dict:
    env = {**production_env(), "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/damane", **extra}
    command = [sys.executable, "manage.py", "shell", "-c", SHOW]
    out = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_production_borrows_connections_from_a_checked_psycopg_pool_sized_to_the_threads():
    database = database_settings(GUNICORN_THREADS="6")
    assert database["CONN_MAX_AGE"] == 0  # Django refuses persistent connections with a pool
    # Django's backend with a pool that checks a connection before lending it and
    # drains itself at the first dead one (damane/postgresql/base.py, issue 20).
    assert database["ENGINE"] == "damane.postgresql"
    assert database["OPTIONS"]["pool"]["reconnect_timeout"] <= 5
    assert database["OPTIONS"]["pool"]["max_size"] == 6
    assert database["OPTIONS"]["pool"]["timeout"] <= 5  # an exhausted pool is a 503 within 5 s (docs/security.md §19)


def test_without_the_pool_connections_persist_and_are_checked_before_reuse():
    database = database_settings(DATABASE_POOL="false")
    assert "pool" not in database["OPTIONS"]
    assert database["CONN_MAX_AGE"] == 300 and database["CONN_HEALTH_CHECKS"] is True


def test_the_compose_workers_do_not_inherit_a_pool_across_fork():
    import yaml

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name in ("worker", "scheduler"):
        assert services[name]["environment"]["DATABASE_POOL"] == "false"
    assert "DATABASE_POOL" not in services["web"].get("environment", {})
