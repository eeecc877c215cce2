import os
from pathlib import Path

import pytest
from django.test import override_settings


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Let several test runs share one PostgreSQL server (PYTEST_DB_SUFFIX)."""
    from django.conf import settings

    suffix = os.environ.get("PYTEST_DB_SUFFIX")
    if suffix:
        test = settings.DATABASES["default"].setdefault("TEST", {})
        test["NAME"] = f"test_damane_{suffix}"


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
    }
    return override_settings(**{**values, **extra})


@pytest.fixture(scope="session", autouse=True)
def _signing_env(signing_dir):
    with _signing_settings(signing_dir):
        yield


@pytest.fixture
def signing_settings():
    """override_settings pointing every signing path at ``directory`` (a context manager)."""
    return _signing_settings
