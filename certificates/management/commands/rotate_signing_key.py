"""Rotate the QR seal key: new certificates use a new key, earlier ones still verify."""

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from certificates import keystore
from certificates.qrpayload import _load_private, reset_key_cache
from certificates.signing import QR_CURRENT_FILE, create_qr_key, create_qr_key_in_token


class Command(BaseCommand):
    help = (
        "Add a new QR seal key and make it current: new certificates' QR payloads are signed with it, while the "
        "earlier keys stay published in /verify/keys.json so that certificates already issued still verify. With "
        "--retire-previous the previous private key is replaced by its public key only. The PDF signing key and "
        "certificate rotate with the fund's PKI: point DAMANE_SIGNING_KEY_PATH and DAMANE_SIGNING_CERT_PATH at the "
        "new pair; PDFs signed earlier still validate against the same root. Restart the application processes "
        "afterwards (each loads the current key once)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--retire-previous", action="store_true", help="Keep only the public half of the previous key."
        )
        parser.add_argument("--dry-run", action="store_true", help="Say what would change, change nothing.")

    def handle(self, *args, retire_previous=False, dry_run=False, **options):
        directory = Path(settings.DAMANE_QR_KEYS_DIR)
        pointer = directory / QR_CURRENT_FILE
        previous = pointer.read_text().strip() if pointer.is_file() else None
        if dry_run:
            self.stdout.write(f"Would add a QR seal key in {directory} (current now: {previous or 'none'}).")
            return
        if not directory.is_dir():
            raise CommandError(f"{directory} does not exist: run manage.py init_signing first")
        if keystore.pkcs11_enabled():
            # Made in the token; the directory keeps public halves only.
            token = keystore.configured_token()
            kid, path = create_qr_key_in_token(directory, token)
            if retire_previous and previous:
                token.destroy(keystore.qr_key_label(previous))
                self.stdout.write(f"retired {previous}: its private half is destroyed in the token")
            reset_key_cache()
            self.stdout.write(f"new current QR seal key {kid} ({path}); previous: {previous or 'none'}")
            return
        kid, path = create_qr_key(directory, passphrase=settings.DAMANE_SIGNING_KEY_PASSPHRASE)
        if retire_previous and previous:
            old = directory / f"{previous}.pem"
            public = _load_private(old).public_key()
            (directory / f"{previous}.pub.pem").write_bytes(
                public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            )
            old.unlink()
            self.stdout.write(f"retired {previous}: only its public key remains")
        reset_key_cache()
        self.stdout.write(f"new current QR seal key {kid} ({path}); previous: {previous or 'none'}")
