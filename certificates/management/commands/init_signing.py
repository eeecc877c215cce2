"""Create the development signing keys: root CA, signing certificate, QR seal key."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from certificates.signing import QR_CURRENT_FILE, create_dev_pki, create_qr_key


class Command(BaseCommand):
    help = (
        "Create a development root CA, a document-signing certificate it issued and a QR seal key "
        "(EC P-256, files 0600) in DAMANE_SIGNING_DIR. Never for production: there the paths point "
        "at the fund's real key and certificate chain."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Replace existing files (old signatures stop verifying)."
        )
        parser.add_argument(
            "--rotate-qr-key",
            action="store_true",
            help="Add a new QR seal key and make it current; earlier keys stay for verification.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Say what would be written, write nothing.")
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Create only what is missing and keep existing keys, without an error (bin/demo, every run).",
        )

    def handle(self, *args, force=False, rotate_qr_key=False, dry_run=False, if_missing=False, **options):
        directory = Path(settings.DAMANE_SIGNING_DIR)
        qr_dir = Path(settings.DAMANE_QR_KEYS_DIR)
        passphrase = settings.DAMANE_SIGNING_KEY_PASSPHRASE
        pki_exists = Path(settings.DAMANE_SIGNING_KEY_PATH).exists() or Path(settings.DAMANE_SIGNING_CERT_PATH).exists()
        qr_exists = (qr_dir / QR_CURRENT_FILE).exists()
        make_pki = force or not pki_exists
        make_qr = force or rotate_qr_key or not qr_exists
        if dry_run:
            self.stdout.write(f"Signing CA and certificate in {directory}: {'create' if make_pki else 'keep'}")
            self.stdout.write(f"QR seal key in {qr_dir}: {'create' if make_qr else 'keep'}")
            return
        if not make_pki and not make_qr:
            if if_missing:
                self.stdout.write(f"Signing keys kept in {directory}.")
                return
            raise CommandError(f"Signing files already exist in {directory}; use --force to replace them.")
        if make_pki:
            for path in create_dev_pki(directory, passphrase=passphrase, force=force):
                self.stdout.write(f"wrote {path}")
        if make_qr:
            kid, path = create_qr_key(qr_dir, passphrase=passphrase)
            self.stdout.write(f"wrote {path} (QR key id {kid}, current)")
        self.stdout.write(
            self.style.SUCCESS("Development signing keys ready. Trust root-ca.pem to validate signatures.")
        )
