"""The image and the compose stack (issue 9, item 2): hashed install, non-root, health check, one-shot migrations."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [tuple(line.split(None, 1)) for line in lines]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_image_installs_from_the_hashed_lock_only():
    runs = [args for op, args in dockerfile_instructions() if op == "RUN"]
    installs = [args for args in runs if "pip install" in args]
    assert installs == ["pip install --require-hashes --no-deps -r requirements.lock"]


def test_the_web_process_runs_as_a_non_root_user_with_a_health_check():
    instructions = dockerfile_instructions()
    users = [args for op, args in instructions if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    last_user = max(i for i, (op, _) in enumerate(instructions) if op == "USER")
    # Nothing after the switch runs as root again.
    assert all(op != "RUN" for op, _ in instructions[last_user:])
    [healthcheck] = [args for op, args in instructions if op == "HEALTHCHECK"]
    # docker/healthcheck.py asks /health/live/ with an allowed Host (tests/test_deployment.py runs it).
    assert healthcheck.endswith('CMD ["python", "/app/docker/healthcheck.py"]')
    assert '"/health/live/"' in (ROOT / "docker" / "healthcheck.py").read_text()


def test_migrations_never_run_in_the_entrypoint_of_every_replica():
    entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text()
    assert not re.search(r"^\s*[^#]*manage\.py migrate", entrypoint, re.MULTILINE)
    assert "manage.py migrate" in (ROOT / "docker" / "migrate.sh").read_text()


def test_the_stack_has_web_worker_scheduler_a_one_shot_migrate_db_redis_and_the_scale_parts():
    services = compose()["services"]
    assert set(services) == {
        "web",
        "worker",
        "scheduler",
        "migrate",
        "db",
        "redis",
        # Many machines and national scale (docs/scaling.md): the balancer, the object store,
        # the streaming replica and PgBouncer in transaction mode.
        "balancer",
        "minio",
        "minio-init",
        "db-replica",
        "pgbouncer",
    }
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["command"] == ["/app/docker/migrate.sh"]
    for name in ("web", "worker", "scheduler"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert services["migrate"]["depends_on"]["db"] == {"condition": "service_healthy"}
    assert "worker" in services["worker"]["command"] and "beat" in services["scheduler"]["command"]


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose is not installed (.ci/run installs it)")
def test_docker_compose_accepts_the_file(tmp_path):
    # With the committed example as .env (the developer's own .env is not read).
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config", "-q"],
        cwd=tmp_path, env=os.environ, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
