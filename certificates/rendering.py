"""Certificate PDFs: a pure function from a snapshot to PDF bytes.

``render_certificate_pdf(snapshot, qr_payload_url=...)`` renders the kind's
``pdf.html`` (in its folder, certificates.registry) with WeasyPrint: A4, the fund's
letterhead, French and Arabic side by side (Arabic shaped and laid out right to
left by Pango/HarfBuzz in Noto Naskh Arabic), fonts embedded as subsets, PDF/A-3a (tagged).
No database, no network: the only resources are data: URIs made here.

The page geometry lives in this module so that the empty frame printed for the
signature and the rectangle pyHanko stamps into (``SIGNATURE_BOX``, PDF points
from the bottom-left corner) are computed from the same numbers.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from certificates import registry
from certificates.documents import CertificateSnapshot

# --- Page geometry (PDF points, 1 pt = 1/72 in) ------------------------------------
PAGE_WIDTH = 595.28  # A4
PAGE_HEIGHT = 841.89
MARGIN_TOP = 32.0
MARGIN_SIDE = 42.0
MARGIN_BOTTOM = 26.0
# The validation band (QR code, dates, signature) sits in the bottom margin, so
# the flowing text can never run under it.
BAND_HEIGHT = 158.0
SIGNATURE_WIDTH = 190.0
SIGNATURE_HEIGHT = 70.0
SIGNATURE_BOTTOM = 14.0  # from the bottom of the band
# Version 10-12 symbols (DMN2) at this size have modules of 0.7 mm and a quiet zone
# of 4 modules below (the address under it starts 7 pt lower): they decode
# from a 100 dpi scan, also blurred by one pixel (tests/certificates/test_qr.py).
QR_SIZE = 128.0
YEARS_PER_COLUMN = 14

SIGNATURE_BOX = (
    PAGE_WIDTH - MARGIN_SIDE - SIGNATURE_WIDTH,
    MARGIN_BOTTOM + SIGNATURE_BOTTOM,
    PAGE_WIDTH - MARGIN_SIDE,
    MARGIN_BOTTOM + SIGNATURE_BOTTOM + SIGNATURE_HEIGHT,
)
# Archival profile: PDF/A-2 allows the PAdES (ETSI.CAdES.detached) signature
# that signing.py appends as an incremental update; PDF/A-1 does not. Level A
# ("accessible") is level B plus a tagged structure and Unicode text: screen
# readers get headings, tables and reading order, and every image needs an alt
# text. WeasyPrint writes one variant at a time, so PDF/UA is not claimed
# besides PDF/A; the tags are the same.
# PDF/A-3 (also PDF 1.7, same level A) because each certificate carries its
# facts as an embedded JSON associated file (certificates.machine_readable),
# which PDF/A-2 does not allow.
PDF_VARIANT = "pdf/a-3a"

FUND_NAME_FR = "Caisse Nationale de Sécurité Sociale"
FUND_NAME_AR = "الصندوق الوطني للضمان الاجتماعي"

# WeasyPrint logs every layout step at INFO: one line per step per certificate.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

_STATIC = Path(settings.BASE_DIR) / "static" / "img"
_lock = threading.Lock()
_font_config = None


def _fonts():
    """One WeasyPrint FontConfiguration per process (saves ~70 ms a render)."""
    global _font_config
    if _font_config is None:
        from weasyprint.text.fonts import FontConfiguration

        _font_config = FontConfiguration()
    return _font_config


@lru_cache(maxsize=4)
def _svg_data_uri(name: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode((_STATIC / name).read_bytes()).decode("ascii")


def qr_png_data_uri(content: str) -> str:
    """The QR code as a PNG data URI, four pixels per module.

    The template scales it to QR_SIZE with ``image-rendering: pixelated`` (the
    PDF image has /Interpolate false), so it prints as sharp as a vector: every
    module is an exact square. At one pixel per module Poppler's 100 dpi
    rendering lost some symbols after a 1 px blur (tests/certificates/test_qr.py);
    from two pixels on every one decodes. An SVG path of the same symbol cost WeasyPrint
    about a tenth of each render to parse and draw, and made the page's content
    stream several times larger (issue 10, docs/benchmarks.md).

    Error correction M (15%) survives a folded or slightly stained page while
    keeping the symbol small enough for a phone camera at 3-4 cm.
    """
    code = segno.make(content, error="m", micro=False, boost_error=False)
    return code.png_data_uri(scale=4, border=0)


def qr_version(content: str) -> int:
    return segno.make(content, error="m", micro=False, boost_error=False).version


def _geometry() -> dict[str, str]:
    """Page numbers for the template's CSS, as plain strings (no locale decimal comma)."""
    values = {
        "margin_top": MARGIN_TOP,
        "margin_side": MARGIN_SIDE,
        "margin_bottom": MARGIN_BOTTOM + BAND_HEIGHT,
        "page_bottom": MARGIN_BOTTOM,
        "band_height": BAND_HEIGHT,
        "sig_width": SIGNATURE_WIDTH,
        "sig_height": SIGNATURE_HEIGHT,
        "sig_bottom": SIGNATURE_BOTTOM,
        "qr_size": QR_SIZE,
        "how_right": SIGNATURE_WIDTH + 14,
        "siglabel_bottom": SIGNATURE_BOTTOM + SIGNATURE_HEIGHT + 2,
    }
    return {name: f"{value:.2f}" for name, value in values.items()}


def year_columns(years: list, per_column: int = YEARS_PER_COLUMN) -> list[list]:
    """A long career prints as two or three tables side by side so that it stays on one page."""
    columns = 1 if len(years) <= per_column else 2 if len(years) <= 2 * per_column else 3
    rows = -(-len(years) // columns)
    return [years[i : i + rows] for i in range(0, len(years), rows)]


_STYLE_RE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


@lru_cache(maxsize=32)
def _stylesheet(css: str):
    """The template's ``<style>``, parsed once per process for each distinct text.

    WeasyPrint otherwise parses a document's ``<style>`` and compiles its
    selectors on every render: about a fifth of the render of a certificate,
    whose style differs only by type (issue 10). Called under ``_lock``, with
    the process's one FontConfiguration.
    """
    from weasyprint import CSS

    return CSS(string=css, font_config=_fonts())


def _write_pdf(html: str, *, title: str) -> bytes:
    from weasyprint import HTML, URLFetcher

    # Only data: URIs: a certificate never reaches the network or the disk
    # while it renders, whatever its text contains.
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    # The one <style> of the template comes out of the document and in as a
    # parsed stylesheet: same rules, same cascade (no other author sheet, no
    # !important), parsed once.
    styles = _STYLE_RE.findall(html)
    html = _STYLE_RE.sub("", html, count=len(styles))
    with _lock:
        # Pango and fontconfig objects shared through the FontConfiguration are
        # not documented as thread-safe: one render at a time per process.
        fonts = _fonts()
        stylesheets = [_stylesheet(css) for css in styles]
        document = HTML(string=html, url_fetcher=fetcher).render(font_config=fonts, stylesheets=stylesheets)
        document.metadata.title = title
        document.metadata.authors = [FUND_NAME_FR]
        return document.write_pdf(pdf_variant=PDF_VARIANT)


def render_certificate_pdf(snapshot: CertificateSnapshot, *, qr_payload_url: str) -> bytes:
    """The unsigned PDF of ``snapshot``; ``qr_payload_url`` is the QR code's whole text."""
    context = {
        "s": snapshot,
        "holder": snapshot.holder,
        "facts": snapshot.facts,
        "geo": _geometry(),
        "logo": _svg_data_uri("cnss-seal.svg"),
        "qr": qr_png_data_uri(qr_payload_url),
        "verify_url": f"{settings.SITE_URL}/verify/",
        "fund_fr": FUND_NAME_FR,
        "fund_ar": FUND_NAME_AR,
        **registry.get(snapshot.kind).pdf_context(snapshot.facts),
    }
    # The wording is fixed bilingual legal text inside the templates; the
    # override only pins number and date handling to the document's language.
    with translation.override("fr"):
        html = render_to_string(registry.get(snapshot.kind).pdf_template, context)
    return _write_pdf(html, title=snapshot.number)


@lru_cache(maxsize=8)
def render_signature_stamp(signer_name: str, signed_on: str) -> bytes:
    """The visible signature appearance: a one-page PDF exactly the size of the box.

    Rendered by WeasyPrint so the Arabic is shaped and the fonts embedded (the
    signed file stays PDF/A); cached per signer and day.
    """
    context = {
        "signer": signer_name,
        "signed_on": signed_on,
        "width": f"{SIGNATURE_WIDTH:.2f}",
        "height": f"{SIGNATURE_HEIGHT:.2f}",
    }
    with translation.override("fr"):
        html = render_to_string("certificates/pdf/_signature_stamp.html", context)
    return _write_pdf(html, title=signer_name)


def stamp_date(moment: datetime) -> str:
    return moment.strftime("%d/%m/%Y")
