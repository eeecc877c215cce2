"""Create the development signing keys: root CA, signing certificate, QR seal key."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from certificates import keystore
from certificates.signing import (
    QR_CURRENT_FILE,
    certificate_signing_request,
    certify_token_key,
    create_dev_pki,
    create_qr_key,
    create_qr_key_in_token,
    reset_material_cache,
)


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
            "--pkcs11",
            action="store_true",
            help="Generate the keys inside the PKCS#11 token (DAMANE_SIGNING_PKCS11_*) and have the development CA "
            "certify the signing key, or write a CSR for the fund's CA with --csr.",
        )
        parser.add_argument("--csr", metavar="PATH", help="With --pkcs11: write a PKCS#10 request, no certificate.")
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Create only what is missing and keep existing keys, without an error (bin/demo, every run).",
        )

    def handle(self, *args, force=False, rotate_qr_key=False, dry_run=False, if_missing=False, **options):
        # With a token configured, its keys are the ones to make (docker/migrate.sh runs --if-missing).
        if options.get("pkcs11") or keystore.pkcs11_enabled():
            return self.handle_pkcs11(force=force, dry_run=dry_run, if_missing=if_missing, csr=options.get("csr"))
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

    def handle_pkcs11(self, *, force, dry_run, if_missing, csr):
        """The keys inside the token: they are generated there and never leave it."""
        if not keystore.pkcs11_enabled():
            raise CommandError("--pkcs11 needs DAMANE_SIGNING_PKCS11_MODULE, its token and key labels and PIN file.")
        token = keystore.configured_token()
        label = settings.DAMANE_SIGNING_PKCS11_KEY_LABEL
        qr_dir = Path(settings.DAMANE_QR_KEYS_DIR)
        try:
            has_key = token.has_key(label)
        except keystore.KeyStoreError as error:
            raise CommandError(str(error)) from None
        make_key = force or not has_key
        make_qr = force or not (qr_dir / QR_CURRENT_FILE).exists()
        if dry_run:
            self.stdout.write(f"Signing key {label!r} in the token {token.label!r}: {'create' if make_key else 'keep'}")
            self.stdout.write(f"QR seal key in the token, public half in {qr_dir}: {'create' if make_qr else 'keep'}")
            return
        if not make_key and not make_qr:
            if if_missing:
                self.stdout.write(f"Signing keys kept in the token {token.label!r}.")
                return
            raise CommandError(f"The token already holds {label!r}; use --force to replace it.")
        if make_key:
            if has_key:
                token.destroy(label)
            public = token.generate(label)
            self.stdout.write(f"generated {label!r} in the token {token.label!r} (key id {keystore.key_id(public)})")
            handle = keystore.Pkcs11Key(token, label)
            if csr:
                Path(csr).write_bytes(certificate_signing_request(handle, "CNSS Damane - signature des attestations"))
                self.stdout.write(
                    f"wrote {csr}: send it to the fund's CA, then set DAMANE_SIGNING_CERT_PATH to the certificate"
                )
            else:
                path = certify_token_key(
                    public, Path(settings.DAMANE_SIGNING_DIR), passphrase=settings.DAMANE_SIGNING_KEY_PASSPHRASE
                )
                self.stdout.write(f"wrote {path} (issued by the development CA)")
        if make_qr:
            kid, path = create_qr_key_in_token(qr_dir, token)
            self.stdout.write(f"wrote {path} (QR key id {kid}, current; private half in the token)")
        reset_material_cache()
        self.stdout.write(self.style.SUCCESS("Signing keys ready in the token."))
