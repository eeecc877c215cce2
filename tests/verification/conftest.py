import pytest
from django.utils import timezone

from certificates.services import certificate_issue
from tests.factories import seed_personas


@pytest.fixture
def amina(db):
    return seed_personas("amina", today=timezone.localdate())["amina"]


@pytest.fixture
def certificate(amina):
    return certificate_issue(insured=amina, kind="employment")


@pytest.fixture
def qr_text(certificate):
    """What a phone reads from the certificate's QR code, decoded from the rendered PDF."""
    import subprocess
    import tempfile
    from pathlib import Path

    import zxingcpp
    from PIL import Image

    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "c.pdf"
        pdf.write_bytes(bytes(certificate.file.data))
        subprocess.run(
            ["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(pdf), str(Path(folder) / "p")], check=True
        )
        image = Image.open(next(Path(folder).glob("p*.png")))
        return zxingcpp.read_barcodes(image)[0].text
