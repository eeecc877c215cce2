"""What DATABASE_REPLICA_URL and DATABASE_PGBOUNCER make of the settings (damane/settings.py).

The behaviour against a real standby and a real PgBouncer: tests/test_replica.py,
tests/test_pgbouncer.py.
"""

import json
import subprocess
import sys

from tests.test_deployment import ROOT, production_env

SHOW = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({alias: {k: d.get(k) for k in ('ENGINE', 'HOST', 'PORT', 'NAME', 'USER', 'OPTIONS', 'TEST',"
    " 'DISABLE_SERVER_SIDE_CURSORS')} for alias, d in s.DATABASES.items()}, default=str))"
)


def databases(**env) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", SHOW], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**production_env(**env), "DJANGO_SETTINGS_MODULE": "damane.settings"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_without_a_replica_url_there_is_no_replica_alias():
    assert set(databases()) == {"default"}


def test_a_replica_url_adds_a_pooled_replica_alias_that_gives_up_fast_and_is_never_a_test_database():
    found = databases(DATABASE_REPLICA_URL="postgres://reader:secret@standby.internal:5433/damane")
    replica, default = found["replica"], found["default"]
    assert (replica["HOST"], str(replica["PORT"]), replica["USER"]) == ("standby.internal", "5433", "reader")
    # Same engine and pool as the primary, but a replica that does not answer is left after 1 s.
    assert replica["ENGINE"] == default["ENGINE"] == "damane.postgresql"
    assert replica["OPTIONS"]["connect_timeout"] == 1 and replica["OPTIONS"]["pool"]["timeout"] == 1
    assert default["OPTIONS"]["pool"]["timeout"] == 3.0
    assert replica["TEST"]["MIRROR"] == "default"


def test_behind_pgbouncer_no_server_side_cursors():
    assert databases(DATABASE_PGBOUNCER="true")["default"]["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert not databases()["default"].get("DISABLE_SERVER_SIDE_CURSORS")
