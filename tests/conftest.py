import os
import uuid
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.utils import translation


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Let several test runs share one PostgreSQL server (PYTEST_DB_SUFFIX)."""
    from django.conf import settings

    suffix = os.environ.get("PYTEST_DB_SUFFIX")
    if suffix:
        test = settings.DATABASES["default"].setdefault("TEST", {})
        test["NAME"] = f"test_damane_{suffix}"


@pytest.fixture(autouse=True)
def _english_and_own_cache(settings):
    """Assertions read the English msgids, whatever the compiled catalogs say
    (tests/test_i18n.py checks French and Arabic); each test has its own cache
    namespace, so rate limits never leak from one test to the next."""
    settings.LANGUAGE_CODE = "en"
    caches = {alias: dict(config) for alias, config in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches
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


# --- Signing material: a development PKI made for this test session only ---------

SITE_URL = "https://damane.cnss.ma"


@pytest.fixture(scope="session")
def signing_dir(tmp_path_factory) -> Path:
    """A development PKI and QR seal key made for this test session only."""
    from certificates.signing import create_dev_pki, create_qr_key

    directory = tmp_path_factory.mktemp("signing")
    create_dev_pki(directory)
    create_qr_key(directory / "qr-keys")
    return directory


def _signing_settings(directory: Path, **extra):
    values = {
        "SITE_URL": SITE_URL,
        "DAMANE_SIGNING_DIR": directory,
        "DAMANE_SIGNING_KEY_PATH": directory / "signing-key.pem",
        "DAMANE_SIGNING_CERT_PATH": directory / "signing-cert.pem",
        "DAMANE_SIGNING_CHAIN_PATHS": [directory / "root-ca.pem"],
        "DAMANE_SIGNING_KEY_PASSPHRASE": "",
        "DAMANE_QR_KEYS_DIR": directory / "qr-keys",
        "DAMANE_SIGNING_AUTO_CREATE": False,
        "DAMANE_TSA_URL": "",
        "DAMANE_SIGNING_CRL_PATH": str(directory / "root-ca.crl"),
        "DAMANE_SIGNING_PKCS11_MODULE": "",
    }
    return override_settings(**{**values, **extra})


@pytest.fixture(scope="session", autouse=True)
def _close_connections_opened_in_browser_tests():
    """Close the database connection a browser test opens inside ``with sync_playwright()``.

    Playwright's sync API runs the block in a greenlet whose context holds its own
    Django connection: left open, it kept the test database busy, and every run ended
    with "database test_test is being accessed by other users" instead of dropping it.
    """
    from django.db import connections
    from playwright.sync_api._context_manager import PlaywrightContextManager

    original = PlaywrightContextManager.__exit__

    def exit_and_close(self, *args):
        # Closing is safe whatever Django thinks of the event loop playwright runs here.
        previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        try:
            connections.close_all()
        finally:
            if previous is None:
                del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
        return original(self, *args)

    PlaywrightContextManager.__exit__ = exit_and_close
    yield
    PlaywrightContextManager.__exit__ = original


@pytest.fixture(scope="session", autouse=True)
def _signing_env(signing_dir):
    with _signing_settings(signing_dir):
        yield


@pytest.fixture
def signing_settings():
    """override_settings pointing every signing path at ``directory`` (a context manager)."""
    return _signing_settings


# --- on_commit as in production under the `db` fixture ----------------------------


@pytest.fixture(autouse=True)
def _on_commit_runs_when_the_service_commits():
    """Run ``transaction.on_commit`` callbacks when the code under test commits.

    Under the ``db`` fixture the test's own transaction wraps everything, so
    Django would never run them; in production a service's outermost
    ``atomic()`` commits and runs them at once (and enqueues its tasks, which
    the suite runs in-process). Blocks opened by the test case do not count:
    a callback runs when the last other block exits without error, or at once
    when there is none. ``transaction=True`` tests commit for real and need no help.
    """
    from django.db import connections
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.transaction import Atomic

    def only_test_blocks(connection) -> bool:
        return all(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)

    original_on_commit = BaseDatabaseWrapper.on_commit
    original_exit = Atomic.__exit__

    def on_commit(self, func, robust=False):
        if self.in_atomic_block and self.atomic_blocks and only_test_blocks(self) and not self.needs_rollback:
            func()
            return
        original_on_commit(self, func, robust=robust)

    def exit(self, exc_type, exc_value, traceback):
        result = original_exit(self, exc_type, exc_value, traceback)
        connection = connections[self.using or "default"]
        if connection.in_atomic_block and connection.atomic_blocks and only_test_blocks(connection):
            pending, connection.run_on_commit = connection.run_on_commit, []
            if exc_type is None and not connection.needs_rollback:
                for _sids, func, _robust in pending:
                    func()
        return result

    # Patched by hand, not with monkeypatch: a test's monkeypatch.undo() must not undo it.
    BaseDatabaseWrapper.on_commit, Atomic.__exit__ = on_commit, exit
    try:
        yield
    finally:
        BaseDatabaseWrapper.on_commit, Atomic.__exit__ = original_on_commit, original_exit
