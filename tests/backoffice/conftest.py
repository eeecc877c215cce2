import uuid

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

STAFF_PASSWORD = "guichet agence casa anfa"


@pytest.fixture(autouse=True)
def _isolated_backoffice(settings):
    """A cache namespace per test (rate limits), English messages."""
    caches = {alias: dict(config) for alias, config in settings.CACHES.items()}
    if "redis" not in caches["default"]["BACKEND"].lower():
        caches["default"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    caches["default"]["KEY_PREFIX"] = f"test-backoffice-{uuid.uuid4().hex}"
    settings.CACHES = caches
    settings.LANGUAGE_CODE = "en"


def make_staff(username: str, *groups: str) -> User:
    user = User.objects.create_user(username=username, password=STAFF_PASSWORD, is_staff=True)
    # get_or_create: a transactional test before this one may have flushed the groups the migration made.
    user.groups.add(*[Group.objects.get_or_create(name=name)[0] for name in groups])
    TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    return user


@pytest.fixture
def agent(db):
    return make_staff("agent.casa", "agent")


@pytest.fixture
def supervisor(db):
    return make_staff("chef.casa", "agent", "supervisor")


@pytest.fixture
def second_supervisor(db):
    return make_staff("chef.rabat", "agent", "supervisor")


def verified_login(client, user):
    """Log ``client`` in as ``user`` with its TOTP device verified, as the staff login leaves the session."""
    client.force_login(user, backend="accounts.backends.StaffBackend")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()
    return client


@pytest.fixture
def as_staff(client):
    """``as_staff(user)``: the test client, logged in as that staff member with a verified device."""

    def login(user):
        return verified_login(client, user)

    return login


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT


@pytest.fixture
def today():
    return timezone.localdate()


PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def pdf_upload(name="cin-recto-verso.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def current_token(user):
    device = TOTPDevice.objects.get(user=user)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift):06d}"
