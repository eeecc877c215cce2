"""Fixtures for the registry tests."""

import pytest
from django.test import Client
from django.utils import translation


@pytest.fixture(autouse=True)
def english():
    """Reasons and pages in English, the language of the msgids, whatever the
    compiled catalogs hold."""
    with translation.override("en"):
        yield


@pytest.fixture
def client():
    return Client(headers={"accept-language": "en"})


@pytest.fixture
def staff_admin(client, django_user_model):
    """A superuser logged in to the admin with a verified TOTP device."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = django_user_model.objects.create_superuser("agent", "agent@example.org", "a long enough password 1")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return user
