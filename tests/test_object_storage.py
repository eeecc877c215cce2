"""Uploads in an S3-compatible object store (issue 24, item 1), against a real S3 API.

moto's S3 server runs as a separate process on a free port (tests/servers.py,
``throwaway_s3``), the portal talks to it through django-storages and boto3 as
it would to MinIO or AWS, and the tests look at the bucket with their own S3
client: what a person uploads lands there encrypted and under a random name,
comes back only through the view after its access check (no URL to the store in
any answer), is removed again when the write that names it fails, and a store
that is down gives a clear, translated 503 with nothing half-written.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from damane.objectstore import s3_storage
from tests.servers import throwaway_s3

ROOT = Path(__file__).resolve().parent.parent
PDF = b"%PDF-1.4\n" + b"identity document " * 200 + b"\n%%EOF\n"


@pytest.fixture(scope="module")
def s3_server():
    with throwaway_s3() as server:
        yield server


def _use_bucket(settings, server, bucket: str) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage(
            bucket=bucket,
            endpoint_url=server.endpoint_url,
            region="us-east-1",
            access_key=server.env(bucket)["DAMANE_S3_ACCESS_KEY_ID"],
            secret_key=server.env(bucket)["DAMANE_S3_SECRET_ACCESS_KEY"],
            connect_timeout=0.5,
            read_timeout=2,
        ),
    }


@pytest.fixture
def bucket(s3_server, settings, tmp_path):
    """A fresh private, encrypted bucket as the default storage; the local media root must stay empty."""
    name = f"damane-{uuid.uuid4().hex[:12]}"
    s3_server.create_bucket(name)
    _use_bucket(settings, s3_server, name)
    settings.MEDIA_ROOT = tmp_path / "private"
    return name


def _keys(server, bucket: str) -> list[str]:
    return [item["Key"] for item in server.client().list_objects_v2(Bucket=bucket).get("Contents", [])]


@pytest.fixture
def mohamed(client, django_user_model):
    from datetime import date

    from registry.models import Insured

    insured = Insured.objects.create(
        cnss_number="100890127", cin="BH112233", last_name="BENJLLOUN", first_name="MOHAMED",
        registered_on=date(2020, 1, 1),
    )  # fmt: skip
    user = django_user_model.objects.create_user(
        username="100890127", password="a long enough pass 42", insured=insured
    )
    client.raise_request_exception = False
    client.force_login(user)
    return user


def _send_id_copy(client, content: bytes = PDF, language: str = "fr"):
    return client.post(
        reverse("casework:name_correction"),
        {
            "last_name": "Benjelloun",
            "first_name": "Mohamed",
            "id_copy": SimpleUploadedFile("cin recto.pdf", content, content_type="application/pdf"),
        },
        HTTP_ACCEPT_LANGUAGE=language,
    )


def _assert_no_store_address(response, server) -> None:
    text = str(response.headers) + (response.content.decode("latin-1") if not response.streaming else "")
    assert f"127.0.0.1:{server.port}" not in text
    assert "X-Amz-" not in text and "Signature=" not in text


@pytest.mark.django_db
def test_every_uploaded_file_field_uses_the_configured_store():
    """ID copies, case documents, treaty documents: no field keeps its own (local) storage."""
    from django.apps import apps
    from django.core.files.storage import default_storage
    from django.db import models

    fields = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
    ]
    assert sorted(fields) == [
        "backoffice.IdentityChange.document",
        "casework.CaseDocument.file",
        "treaties.ForeignPeriodVersion.document",
    ]
    for label in fields:
        model_label, name = label.rsplit(".", 1)
        assert apps.get_model(model_label)._meta.get_field(name).storage is default_storage, label


@pytest.mark.django_db
def test_an_id_copy_is_stored_encrypted_in_the_private_bucket_under_a_random_name(
    client, mohamed, bucket, s3_server, settings
):
    from casework.models import CaseDocument

    response = _send_id_copy(client)
    assert response.status_code == 302, response.content.decode()[:500]
    document = CaseDocument.objects.get()
    [key] = _keys(s3_server, bucket)
    assert key == document.file.name and key.startswith("case-documents/")
    assert "cin" not in key
    s3 = s3_server.client()
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == PDF
    # No public grant on the object: only the owner (the portal's key) may read it.
    grants = s3.get_object_acl(Bucket=bucket, Key=key)["Grants"]
    assert [g["Grantee"]["Type"] for g in grants] == ["CanonicalUser"]
    # Nothing went to the local disk.
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not [p for p in media.rglob("*") if p.is_file()]


@pytest.mark.django_db
def test_the_owner_downloads_through_the_portal_after_the_check_and_others_get_404(
    client, mohamed, bucket, s3_server, django_user_model
):
    from casework.models import CaseDocument

    assert _send_id_copy(client).status_code == 302
    document = CaseDocument.objects.get()
    url = reverse("casework:document", args=[document.pk])

    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert "Location" not in response  # streamed, never a redirect to the store
    _assert_no_store_address(response, s3_server)
    # The case page links to the portal's view, never to the store.
    page = client.get(reverse("casework:detail", args=[document.case.reference]))
    assert url in page.content.decode()
    _assert_no_store_address(page, s3_server)

    other = django_user_model.objects.create_user(username="someone", password="another long pass 42")
    client.force_login(other)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_a_file_whose_row_could_not_be_written_is_deleted_from_the_bucket(
    client, mohamed, bucket, s3_server, monkeypatch
):
    from django.db import OperationalError

    from casework.models import Case, CaseDocument

    written = []
    real_save = CaseDocument.save

    def fail_after_write(self, *args, **kwargs):
        written.extend(_keys(s3_server, bucket))
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(CaseDocument, "save", fail_after_write)
    response = _send_id_copy(client)
    monkeypatch.setattr(CaseDocument, "save", real_save)
    assert written, "the object was in the bucket before the database failed"
    assert response.status_code == 503
    assert not Case.objects.exists() and not CaseDocument.objects.exists()
    assert _keys(s3_server, bucket) == []


@pytest.mark.django_db
def test_deleting_a_stored_file_removes_the_object(bucket, s3_server):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    name = default_storage.save("case-documents/2026/01/deleted.pdf", ContentFile(PDF))
    assert _keys(s3_server, bucket) == [name]
    default_storage.delete(name)
    assert _keys(s3_server, bucket) == []
    assert not default_storage.exists(name)


@pytest.fixture
def store_that_goes_down(settings, tmp_path):
    """A store of its own for this test (it will be killed); the module's one stays up."""
    with throwaway_s3() as server:
        name = "damane-going-down"
        server.create_bucket(name)
        _use_bucket(settings, server, name)
        settings.MEDIA_ROOT = tmp_path / "private"
        yield server, name


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "stored", "unreadable"),
    [
        ("fr", "Votre fichier n'a pas pu être enregistré", "Ce document ne peut pas être lu pour le moment"),
        ("ar", "تعذّر حفظ ملفك", "لا يمكن قراءة هذه الوثيقة حاليا"),
        ("en", "Your file could not be stored right now", "This document cannot be read right now"),
    ],
)
def test_a_store_that_is_down_is_a_translated_503_and_nothing_is_half_written(
    client, mohamed, store_that_goes_down, language, stored, unreadable
):
    from casework.models import Case, CaseDocument, CaseStatus

    server, _ = store_that_goes_down
    assert _send_id_copy(client, language=language).status_code == 302
    document = CaseDocument.objects.get()
    Case.objects.update(status=CaseStatus.DONE)  # one open name correction at a time: the next is new
    server.kill()

    response = _send_id_copy(client, language=language)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert stored in page, page
    # Nothing recorded: the first request only.
    assert Case.objects.count() == 1 and CaseDocument.objects.count() == 1

    response = client.get(reverse("casework:document", args=[document.pk]), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 503
    assert not response.streaming  # a page, not a download cut short
    assert unreadable in response.content.decode()


def test_the_settings_build_the_object_store_from_the_environment(tmp_path):
    code = (
        "import django; django.setup(); from django.core.files.storage import default_storage as s; "
        "s._setup(); print(type(s._wrapped).__name__, s.bucket_name, s.endpoint_url, s.default_acl, s.file_overwrite, "
        "s.object_parameters['ServerSideEncryption'])"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "damane.settings",
        "DJANGO_DEBUG": "true",
        "DAMANE_VAR_DIR": str(tmp_path),
        "DAMANE_S3_BUCKET": "fund-uploads",
        "DAMANE_S3_ENDPOINT_URL": "http://minio:9000",
    }
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["S3Storage", "fund-uploads", "http://minio:9000", "None", "False", "AES256"]
    # Without a bucket: the local disk, as bin/demo.
    del env["DAMANE_S3_BUCKET"]
    code = "import django; django.setup(); from django.core.files.storage import default_storage as s; " + (
        "s._setup(); print(type(s._wrapped).__name__)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "FileSystemStorage", result.stderr
