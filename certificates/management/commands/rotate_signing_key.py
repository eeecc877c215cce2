"""Rotate the QR seal key: new certificates use a new key, earlier ones still verify (or not, when revoked)."""

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from certificates import keystore
from certificates.qrpayload import _load_private, reset_key_cache
from certificates.signing import QR_CURRENT_FILE, _write_private, create_qr_key, create_qr_key_in_token

REVOKED_DIR = "revoked"


class Command(BaseCommand):
    help = (
        "Add a new QR seal key and make it current: new certificates' QR payloads are signed with it, while the "
        "earlier keys stay published in /verify/keys.json so that certificates already issued still verify. With "
        "--retire-previous the previous private key is destroyed and its public key stays published. With "
        "--revoke-previous (a key that leaked) it is destroyed and no longer published: payloads it signed stop "
        "verifying offline, and the verify page, which answers from the database, keeps answering for every "
        "certificate (docs/signing.md). The PDF signing key and certificate rotate with the fund's PKI: point "
        "DAMANE_SIGNING_CERT_PATH (and the key path or token label) at the new pair; PDFs signed earlier still "
        "validate against the same root. Restart the application processes afterwards (each loads the current "
        "key once). With DAMANE_SIGNING_PKCS11_MODULE the new key is made inside the token."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--retire-previous", action="store_true", help="Keep only the public half of the previous key."
        )
        parser.add_argument(
            "--revoke-previous",
            action="store_true",
            help="The previous key leaked: destroy it and stop publishing it (kept aside in revoked/).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Say what would change, change nothing.")

    def handle(self, *args, retire_previous=False, revoke_previous=False, dry_run=False, **options):
        directory = Path(settings.DAMANE_QR_KEYS_DIR)
        pointer = directory / QR_CURRENT_FILE
        previous = pointer.read_text().strip() if pointer.is_file() else None
        if dry_run:
            self.stdout.write(f"Would add a QR seal key in {directory} (current now: {previous or 'none'}).")
            return
        if not directory.is_dir():
            raise CommandError(f"{directory} does not exist: run manage.py init_signing first")
        token = keystore.configured_token() if keystore.pkcs11_enabled() else None
        if token is not None:
            # Made in the token; the directory keeps public halves only.
            kid, path = create_qr_key_in_token(directory, token)
        else:
            kid, path = create_qr_key(directory, passphrase=settings.DAMANE_SIGNING_KEY_PASSPHRASE)
        if (retire_previous or revoke_previous) and previous:
            public = self._public_half(directory, previous)
            if token is not None:
                token.destroy(keystore.qr_key_label(previous))
            (directory / f"{previous}.pem").unlink(missing_ok=True)
            if revoke_previous:
                (directory / f"{previous}.pub.pem").unlink(missing_ok=True)
                _write_private(directory / REVOKED_DIR / f"{previous}.pub.pem", public)
                self.stdout.write(f"revoked {previous}: destroyed, no longer published (kept in {REVOKED_DIR}/)")
            else:
                _write_private(directory / f"{previous}.pub.pem", public)
                self.stdout.write(f"retired {previous}: only its public key remains")
        reset_key_cache()
        self.stdout.write(f"new current QR seal key {kid} ({path}); previous: {previous or 'none'}")

    @staticmethod
    def _public_half(directory: Path, kid: str) -> bytes:
        public_path = directory / f"{kid}.pub.pem"
        if public_path.exists():
            return public_path.read_bytes()
        public = _load_private(directory / f"{kid}.pem").public_key()
        return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
