"""Render the six sample certificates, signed, as PDFs and small PNG previews."""

import io
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from PIL import Image

from certificates.machine_readable import certificate_json_bytes
from certificates.qrpayload import qr_claims, qr_url, sign_qr_payload
from certificates.rendering import render_certificate_pdf
from certificates.samples import all_samples
from certificates.signing import sign_pdf

MAX_PNG_BYTES = 200_000


class Command(BaseCommand):
    help = "Write docs/samples/<kind>.png (page 1 at 100 dpi) and, with --pdf, the signed PDFs."

    def add_arguments(self, parser):
        parser.add_argument("--out", default=str(Path(settings.BASE_DIR) / "docs" / "samples"))
        parser.add_argument("--dpi", type=int, default=100)
        parser.add_argument("--pdf", action="store_true", help="Also keep the signed PDFs next to the pictures.")
        parser.add_argument("--dry-run", action="store_true", help="Say what would be written, write nothing.")

    def handle(self, *args, out, dpi, pdf, dry_run=False, **options):
        directory = Path(out)
        if dry_run:
            for snapshot in all_samples():
                self.stdout.write(f"would write {directory / snapshot.kind}.png" + (" and .pdf" if pdf else ""))
            return
        directory.mkdir(parents=True, exist_ok=True)
        for snapshot in all_samples():
            token = sign_qr_payload(qr_claims(snapshot))
            signed = sign_pdf(
                render_certificate_pdf(snapshot, qr_payload_url=qr_url(snapshot.public_id, token)),
                embedded_json=certificate_json_bytes(snapshot),
            )
            if pdf:
                (directory / f"{snapshot.kind}.pdf").write_bytes(signed)
            png = directory / f"{snapshot.kind}.png"
            png.write_bytes(_preview(signed, dpi))
            self.stdout.write(f"wrote {png} ({png.stat().st_size // 1024} KB)")


def _preview(pdf: bytes, dpi: int) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "doc.pdf"
        source.write_bytes(pdf)
        try:
            subprocess.run(  # noqa: S603 - fixed arguments, our own file
                [  # noqa: S607 - poppler-utils from the system, like the Dockerfile installs it
                    "pdftoppm",
                    "-r",
                    str(dpi),
                    "-f",
                    "1",
                    "-l",
                    "1",
                    "-png",
                    "-singlefile",
                    str(source),
                    str(Path(tmp) / "page"),
                ],
                check=True,
                capture_output=True,
            )
        except (OSError, subprocess.CalledProcessError) as exc:
            raise CommandError(f"pdftoppm (poppler-utils) failed: {exc}") from exc
        image = Image.open(Path(tmp) / "page.png").convert("RGB")
    # A palette of 64 colours keeps text and the QR code crisp at a fraction of the size.
    for colours in (128, 64, 32):
        buffer = io.BytesIO()
        image.quantize(colors=colours, method=Image.Quantize.MEDIANCUT).save(buffer, "PNG", optimize=True)
        if buffer.tell() <= MAX_PNG_BYTES:
            break
    return buffer.getvalue()
