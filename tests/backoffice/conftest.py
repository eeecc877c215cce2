import uuid

import pytest
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


@pytest.fixture
def agent(db):
    user = User.objects.create_user(username="agent.casa", password=STAFF_PASSWORD, is_staff=True)
    TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    return user


def current_token(user):
    device = TOTPDevice.objects.get(user=user)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift):06d}"
