"""Check a certificate PDF from the command line, as the upload page does."""

from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils import timezone

from verification.pdfcheck import check_pdf


class Command(BaseCommand):
    help = (
        "Check that FILE.pdf carries the fund's valid signature over the whole file and is byte for byte a "
        "certificate the portal issued, then report its state. Exits 0 only for a genuine certificate that is "
        "valid today (not expired, revoked or replaced); 1 otherwise; 2 when the file cannot be read."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, metavar="FILE.pdf")

    def handle(self, *args, file, **options):
        try:
            data = file.read_bytes()
        except OSError as error:
            self.stderr.write(f"{file}: {error.strerror or error}")
            raise SystemExit(2) from None
        verdict = check_pdf(data)
        checks = [
            ("PDF", verdict.is_pdf and verdict.readable),
            ("signature present", verdict.signed),
            ("signature intact", verdict.signature_intact),
            ("signed by the fund", verdict.signature_trusted),
            ("signature covers the whole file", verdict.covers_whole_file),
            ("issued by the portal (SHA-256)", verdict.issued_here),
        ]
        for label, ok in checks:
            self.stdout.write(f"{'ok  ' if ok else 'FAIL'} {label}")
        state = None
        if verdict.certificate is not None:
            certificate = verdict.certificate
            state = certificate.state_on(timezone.localdate())
            if state == "valid" and certificate.superseded_by_id:
                state = "replaced"
            self.stdout.write(
                f"certificate {certificate.number} ({certificate.kind}), valid until {certificate.valid_until}: {state}"
            )
        if not (verdict.genuine and state == "valid"):
            raise SystemExit(1)
