"""Why a certificate rendered slower than a comparable page, one cause at a time (issue 10, item 4).

    .venv/bin/python bench/bench_render_causes.py [--rounds 6]

Renders the six sample certificates with variants of the rendering code, in
turns (so every variant sees the same load on this shared machine), and
bench/floor_certificate.html as the comparable page, all with the process's one
FontConfiguration. Reports CPU time (``time.process_time``: less sensitive to
other processes than wall time) as min, first quartile and median:

- before: the QR code as an SVG path, the template's <style> parsed on every render
  (the code before issue 10);
- each fix alone, then both (the shipped code);
- what was left as is: PDF/A-2a tagging, tables in automatic layout, and the
  font stack (a "Noto Sans Mono" that is not installed, tabular figures).
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLES = r"table \{ border-collapse: collapse; width: 100%; \}"
TABLES_FIXED = "table { border-collapse: collapse; width: 100%; table-layout: fixed; }"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6, help="rounds of six renders per variant")
    args = parser.parse_args()
    os.environ.update(
        DAMANE_SIGNING_DIR=tempfile.mkdtemp(prefix="damane-bench-keys-"),
        DAMANE_SIGNING_AUTO_CREATE="true",
        DAMANE_TSA_URL="",
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "damane.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import segno
    from weasyprint import HTML, URLFetcher

    from certificates import rendering
    from certificates.samples import all_samples

    samples = all_samples()
    shipped_write, shipped_qr = rendering._write_pdf, rendering.qr_png_data_uri

    def svg_qr(content):
        code = segno.make(content, error="m", micro=False, boost_error=False)
        return code.svg_data_uri(border=0, dark="#000", omitsize=True)

    def style_each_time(html, *, title):
        fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
        with rendering._lock:
            document = HTML(string=html, url_fetcher=fetcher).render(font_config=rendering._fonts())
            document.metadata.title = title
            return document.write_pdf(pdf_variant=rendering.PDF_VARIANT)

    def edited(subs, variant=rendering.PDF_VARIANT):
        def write(html, *, title):
            for pattern, replacement in subs:
                html = re.sub(pattern, replacement, html)
            shipped = rendering.PDF_VARIANT
            rendering.PDF_VARIANT = variant
            try:
                return shipped_write(html, title=title)
            finally:
                rendering.PDF_VARIANT = shipped

        return write

    variants = {
        "before (SVG QR, <style> parsed each time)": (style_each_time, svg_qr),
        "stylesheet parsed once only": (shipped_write, svg_qr),
        "PNG QR only": (style_each_time, shipped_qr),
        "after (both: shipped)": (shipped_write, shipped_qr),
        "after, without PDF/A-2a tags (2b)": (edited([], "pdf/a-2b"), shipped_qr),
        "after, tables in fixed layout": (edited([(TABLES, TABLES_FIXED)]), shipped_qr),
        "after, no Noto Sans Mono / tabular figures": (
            edited([(r'"Noto Sans Mono", monospace', '"Noto Sans"'), (r"font-variant-numeric: tabular-nums;", "")]),
            shipped_qr,
        ),
    }
    qr = segno.make("http://127.0.0.1:8000/verify/" + "A" * 22 + "#DMN2." + "B" * 170, error="m")
    png = io.BytesIO()
    qr.save(png, kind="png", scale=4, border=0)
    uri = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii")
    floor_html = (Path(__file__).parent / "floor_certificate.html").read_text().replace("QR_DATA_URI", uri)

    def url(snapshot):
        return f"http://127.0.0.1:8000/verify/{snapshot.public_id}#DMN2." + "x" * 170

    timings: dict[str, list[float]] = {name: [] for name in variants}
    timings["comparable page (bench/floor_certificate.html)"] = []
    for snapshot in samples:  # warm-up: fonts, imports
        rendering.render_certificate_pdf(snapshot, qr_payload_url=url(snapshot))
        HTML(string=floor_html).write_pdf(font_config=rendering._fonts())
    for _ in range(args.rounds):
        for name, (write, make_qr) in variants.items():
            rendering._write_pdf, rendering.qr_png_data_uri = write, make_qr
            for snapshot in samples:
                started = time.process_time()
                rendering.render_certificate_pdf(snapshot, qr_payload_url=url(snapshot))
                timings[name].append((time.process_time() - started) * 1000)
        for _snapshot in samples:
            started = time.process_time()
            HTML(string=floor_html).write_pdf(font_config=rendering._fonts())
            timings["comparable page (bench/floor_certificate.html)"].append((time.process_time() - started) * 1000)
    rendering._write_pdf, rendering.qr_png_data_uri = shipped_write, shipped_qr

    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| variant | CPU min (ms) | CPU p25 (ms) | CPU median (ms) |")
    print("|---|---:|---:|---:|")
    for name, values in timings.items():
        p25 = statistics.quantiles(values, n=4)[0]
        print(f"| {name} | {min(values):.0f} | {p25:.0f} | {statistics.median(values):.0f} |")


if __name__ == "__main__":
    main()
