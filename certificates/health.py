"""The certificates app's part of readiness and of ``check --deploy``: the signing key and the TSA.

Registered by ``CertificatesConfig.ready`` into the kernel's readiness view
(``damane.health.register_readiness``) and Django's system checks.

A production deployment (DEBUG off) whose signing certificate was issued by the
development CA (``manage.py init_signing``) is refused: readiness answers 503 and
``manage.py check --deploy`` reports an error (damane.E001), unless
``DAMANE_DEV_SIGNING=true`` says on purpose that this is a demonstration stack
(then a warning, damane.W001).
"""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core import checks
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable, ServiceWarning

# A signing certificate this close to its end is an incident to handle now.
CERTIFICATE_MARGIN = datetime.timedelta(days=30)


DEVELOPMENT_CA_REFUSED = (
    "signing certificate issued by the development CA: production signs with the fund's key "
    "(DAMANE_SIGNING_KEY_PATH, DAMANE_SIGNING_CERT_PATH, DAMANE_SIGNING_CHAIN_PATHS)"
)


def _common_names(name: x509.Name) -> list[str]:
    return [attribute.value for attribute in name.get_attributes_for_oid(NameOID.COMMON_NAME)]


def signs_with_development_ca() -> bool:
    """Whether the configured signing certificate or its chain comes from ``init_signing``'s development CA."""
    from certificates.signing import DEV_ROOT_CA_NAME

    for path in [settings.DAMANE_SIGNING_CERT_PATH, *settings.DAMANE_SIGNING_CHAIN_PATHS]:
        try:
            certificates = x509.load_pem_x509_certificates(Path(path).read_bytes())
        except (OSError, ValueError):
            continue  # missing or unreadable: the readiness check says so on its own
        for certificate in certificates:
            if DEV_ROOT_CA_NAME in _common_names(certificate.issuer) + _common_names(certificate.subject):
                return True
    return False


def development_ca_refused() -> bool:
    """Production settings (DEBUG off, DAMANE_DEV_SIGNING not set on purpose) with the development CA."""
    return not settings.DEBUG and not settings.DAMANE_DEV_SIGNING and signs_with_development_ca()


@checks.register(checks.Tags.security, deploy=True)
def check_development_signing(app_configs, **kwargs):
    if development_ca_refused():
        return [
            checks.Error(
                f"The {DEVELOPMENT_CA_REFUSED}.",
                hint="Mount the fund's key and certificate and point the DAMANE_SIGNING_* paths at them; "
                "the development CA is for the demo only (DAMANE_DEV_SIGNING=true says so on purpose).",
                id="damane.E001",
            )
        ]
    if not settings.DEBUG and settings.DAMANE_DEV_SIGNING:
        return [
            checks.Warning(
                "DAMANE_DEV_SIGNING=true with DEBUG off: the development CA, which nobody trusts, may sign here.",
                hint="For a demonstration stack only; production mounts the fund's key and sets it to false.",
                id="damane.W001",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_trusted_time(app_configs, **kwargs):
    """A key in a file and no timestamp: whoever copies the file can sign documents dated any day."""
    if not settings.DAMANE_TSA_URL and not settings.DAMANE_SIGNING_PKCS11_MODULE:
        return [
            checks.Warning(
                "No timestamp authority (DAMANE_TSA_URL) and the signing key is a file: signatures are PAdES B-B, "
                "without trusted time, and nothing dates them but the key holder's clock.",
                hint="Set DAMANE_TSA_URL (PAdES B-LT) and keep the key in an HSM (DAMANE_SIGNING_PKCS11_MODULE); "
                "docs/signing.md.",
                id="damane.W002",
            )
        ]
    return []


@dataclasses.dataclass
class SigningKey(HealthCheck):
    """The document-signing key signs (a round trip, through the token when there is one), its
    certificate is valid for 30 more days, and the QR seal key signs too."""

    def run(self):
        from certificates.qrpayload import current_qr_key
        from certificates.signing import load_signing_material

        try:
            material = load_signing_material()
            material.key.round_trip()
        except Exception as exc:  # unreadable, missing, wrong passphrase or PIN, mismatched pair, token gone
            raise ServiceUnavailable(f"signing key unusable ({exc.__class__.__name__})") from exc
        if development_ca_refused():
            raise ServiceUnavailable(DEVELOPMENT_CA_REFUSED)
        left = material.certificate.not_valid_after_utc - timezone.now()
        if left < datetime.timedelta(0):
            raise ServiceUnavailable("signing certificate expired")
        if left < CERTIFICATE_MARGIN:
            raise ServiceUnavailable(f"signing certificate expires in {left.days} days")
        if material.certificate.not_valid_before_utc > timezone.now():
            raise ServiceWarning("signing certificate not yet valid")
        try:
            current_qr_key()[1].round_trip()
        except Exception as exc:  # the QR seal key: missing, unreadable, token gone
            raise ServiceUnavailable(f"QR seal key unusable ({exc.__class__.__name__})") from exc


@dataclasses.dataclass
class TimestampAuthority(HealthCheck):
    """The RFC 3161 TSA answers a timestamp request now (skipped when none is configured).

    A fresh request each time: pyHanko keeps its dummy answer per process, which
    would say "up" forever after the first success.
    """

    async def run(self):
        import hashlib
        import os

        from certificates.signing import _default_timestamper

        stamper = _default_timestamper()
        if stamper is None:
            return
        try:
            await stamper.async_timestamp(hashlib.sha256(os.urandom(16)).digest(), "sha256")
        except Exception as exc:  # network errors and refusals alike
            raise ServiceUnavailable(
                f"timestamp authority unreachable ({exc.__class__.__name__}): no certificate can be issued"
            ) from exc

    @property
    def timeout(self):
        return datetime.timedelta(seconds=settings.DAMANE_TSA_TIMEOUT_SECONDS)
