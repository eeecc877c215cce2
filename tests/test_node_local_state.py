"""No node-local state (issue 24, item 2): what a web process writes to its own disk, and why it is safe.

Two checks. The settings of a production node (DEBUG off, Redis, the object
store) are audited: sessions in PostgreSQL, rate limits, lockouts and the
broker in Redis, uploads in the object store, and every setting that still
names a path under the node's DAMANE_VAR_DIR is listed in ``NODE_LOCAL`` with
the reason it may differ from node to node. Then a request mix (log in, the
dashboard, ask for a certificate, download it, upload an ID copy, download it,
look a certificate up) runs against a fresh, empty var/ directory with the
object store as the default storage, and nothing at all may appear in it.
bench/run_nodes.py lists the files each process of the two-node run wrote.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from damane.objectstore import s3_storage
from tests.servers import throwaway_s3

ROOT = Path(__file__).resolve().parent.parent

# Settings that name a place under the node's DAMANE_VAR_DIR in production, and why each may be per node.
NODE_LOCAL = {
    "MEDIA_ROOT": "unused once DAMANE_S3_BUCKET is set: uploads go to the object store",
    "STATIC_ROOT": "collected static files: built into the image, the same on every node, never written at run time",
    "EMAIL_FILE_PATH": "only read by Django's file e-mail backend (development); production sends by SMTP",
    "SMS_FILE_PATH": "only written by the file SMS backend (tests, development); production sends through Twilio",
    "DAMANE_SIGNING_DIR": "development keys only; production points DAMANE_SIGNING_*_PATH at the read-only "
    "secret mounted on every node",
    "DAMANE_SIGNING_CRL_PATH": "the issuing CA's revocation list, read-only, mounted beside the signing secret "
    "on every node and refreshed there by the operators (docs/signing.md)",
    "DAMANE_QR_KEYS_DIR": "read-only QR seal keys, distributed with the signing secret (rotate_signing_key "
    "runs once, against the secret store)",
    "DAMANE_SIGNING_KEY_PATH": "development key (see DAMANE_SIGNING_DIR)",
    "DAMANE_SIGNING_CERT_PATH": "development certificate (see DAMANE_SIGNING_DIR)",
    "DAMANE_SIGNING_CHAIN_PATHS": "development chain (see DAMANE_SIGNING_DIR)",
}

AUDIT = """
import json, django
django.setup()
from pathlib import Path
from django.conf import settings
from django.core.files.storage import default_storage
default_storage._setup()
var = Path(settings.VAR_DIR).resolve()
under = []
for name in dir(settings):
    if not name.isupper() or name == "VAR_DIR":
        continue
    value = getattr(settings, name)
    for item in value if isinstance(value, (list, tuple)) else [value]:
        if isinstance(item, (str, Path)) and str(item).startswith(str(var)):
            under.append(name)
print(json.dumps({
    "under": sorted(set(under)),
    "session_engine": settings.SESSION_ENGINE,
    "cache": settings.CACHES["default"]["BACKEND"],
    "broker": settings.CELERY_BROKER_URL.split(":")[0],
    "storage": type(default_storage._wrapped).__name__,
    "email": settings.EMAIL_BACKEND,
    "sms": settings.SMS_BACKEND,
}))
"""


def test_a_production_node_keeps_no_state_of_its_own(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "damane.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "node-audit-" + "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "damane.example.ma",
        "DATABASE_URL": "postgres://damane@db:5432/damane",
        "REDIS_URL": "redis://redis:6379/0",
        "DAMANE_VAR_DIR": str(tmp_path / "var"),
        "DAMANE_S3_BUCKET": "fund-uploads",
        "DAMANE_S3_ENDPOINT_URL": "http://minio:9000",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "SMS_BACKEND": "twilio",
    }
    result = subprocess.run(
        [sys.executable, "-c", AUDIT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    audit = json.loads(result.stdout.strip().splitlines()[-1])
    assert audit["session_engine"] == "damane.sessions"  # Django's database sessions
    assert audit["cache"] == "django.core.cache.backends.redis.RedisCache"  # limits, lockouts
    assert audit["broker"] == "redis"
    assert audit["storage"] == "S3Storage"
    assert audit["email"].endswith("smtp.EmailBackend") and audit["sms"] == "twilio"
    unexplained = set(audit["under"]) - set(NODE_LOCAL)
    assert not unexplained, f"settings naming the node's disk without a reason in NODE_LOCAL: {unexplained}"


def test_the_session_engine_stores_sessions_in_the_database():
    from django.contrib.sessions.backends.db import SessionStore

    from damane.sessions import SessionStore as DamaneStore

    assert issubclass(DamaneStore, SessionStore)


@pytest.fixture
def object_store(settings):
    with throwaway_s3() as server:
        bucket = f"damane-{uuid.uuid4().hex[:12]}"
        server.create_bucket(bucket)
        keys = server.env(bucket)
        settings.STORAGES = {
            **settings.STORAGES,
            "default": s3_storage(
                bucket=bucket, endpoint_url=server.endpoint_url, region="us-east-1",
                access_key=keys["DAMANE_S3_ACCESS_KEY_ID"], secret_key=keys["DAMANE_S3_SECRET_ACCESS_KEY"],
            ),
        }  # fmt: skip
        yield server, bucket


@pytest.mark.django_db
def test_a_request_mix_writes_nothing_to_the_nodes_disk(client, settings, tmp_path, object_store):
    from accounts.models import User
    from casework.models import CaseDocument
    from certificates.models import Certificate
    from tests.factories import seed_personas

    var = tmp_path / "var"
    var.mkdir()
    settings.VAR_DIR = var
    settings.MEDIA_ROOT = var / "private"
    settings.EMAIL_FILE_PATH = str(var / "mail")
    settings.SMS_FILE_PATH = var / "sms"
    settings.FILE_UPLOAD_TEMP_DIR = str(var / "tmp")  # where a large upload would be spooled

    amina = seed_personas("amina", today=timezone.localdate())["amina"]
    user = User.objects.create_user(
        username=amina.cnss_number, password="damane node test 2026", insured=amina, email="a@example.ma"
    )
    user.activated_at = timezone.now()
    user.save()
    page = client.get("/login/")
    assert page.status_code == 200
    response = client.post("/login/", {"identifier": amina.cnss_number, "password": "damane node test 2026"})
    assert response.status_code == 302, response.content.decode()[:300]
    assert client.get("/me/").status_code == 200
    response = client.post("/certificates/new/declared_days/")
    assert response.status_code == 302, response.content.decode()[:300]
    certificate = Certificate.objects.get()
    assert client.get(f"/certificates/c/{certificate.public_id}/pdf/").status_code == 200
    assert client.get(f"/verify/{certificate.public_id}").status_code == 200
    response = client.post(
        "/requests/name-correction/",
        {
            "last_name": "Bennani",
            "first_name": "Amina",
            "id_copy": SimpleUploadedFile("cin.pdf", b"%PDF-1.4\n" + b"x" * 4096 + b"\n%%EOF\n", "application/pdf"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:300]
    document = CaseDocument.objects.get()
    download = client.get(f"/requests/documents/{document.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")

    server, bucket = object_store
    assert [o["Key"] for o in server.client().list_objects_v2(Bucket=bucket)["Contents"]] == [document.file.name]
    assert [str(p.relative_to(var)) for p in var.rglob("*")] == []
