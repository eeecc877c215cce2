import dataclasses
import re
import time
from io import BytesIO

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from certificates.rendering import render_certificate_pdf
from certificates.samples import sample_snapshot

KINDS = ["employment", "affiliation", "non_affiliation", "annual_salary", "declared_days", "deregistration"]
TITLES = {
    "employment": ("Attestation de travail", "شهادة العمل"),
    "affiliation": ("Attestation d'affiliation", "شهادة الانخراط"),
    "non_affiliation": ("Attestation de non-affiliation", "شهادة عدم الانخراط"),
    "annual_salary": ("Attestation de salaire annuelle", "شهادة الأجور السنوية"),
    "declared_days": ("Relevé des jours déclarés", "بيان الأيام المصرح بها"),
    "deregistration": ("Attestation de radiation", "شهادة التشطيب"),
}


@pytest.mark.parametrize("kind", KINDS)
def test_each_certificate_is_one_a4_page_with_its_title_in_french_and_arabic(kind, issued, poppler, pdf_text):
    snapshot, _url, _token, unsigned, _signed = issued[kind]
    assert unsigned.startswith(b"%PDF-1.7")
    info = poppler("pdfinfo", unsigned)
    assert re.search(r"Pages:\s+1\n", info)
    assert re.search(r"595\.\d+ x 841\.89 pts \(A4\)", info)
    text = pdf_text(unsigned)
    french, arabic = TITLES[kind]
    assert french in text
    assert arabic in text
    assert snapshot.number in text
    assert snapshot.verification_code in text


@pytest.mark.parametrize("kind", KINDS)
def test_the_arabic_font_is_embedded_and_every_font_is_embedded(kind, issued, poppler, pdf_text):
    *_rest, unsigned, _signed = issued[kind]
    fonts = poppler("pdffonts", unsigned).splitlines()[2:]
    assert any("Noto-Naskh-Arabic" in line for line in fonts)
    for line in fonts:
        emb = line.split()[-5]
        assert emb == "yes", line


def test_the_arabic_text_comes_out_shaped_in_reading_order(issued, poppler, pdf_text):
    snapshot, *_rest, unsigned, _signed = issued["employment"]
    text = pdf_text(unsigned)
    assert "الصندوق الوطني للضمان الاجتماعي" in text
    assert "المملكة المغربية" in text
    assert snapshot.holder.full_name_ar in text  # العمراني فاطمة الزهراء
    assert "رقم البطاقة الوطنية للتعريف" in text
    # Moroccan month name of the reference period, in a sentence read right to left.
    assert "برسم الفترة المرجعية دجنبر" in text


def test_the_employment_certificate_states_employer_start_and_days(issued, poppler, pdf_text):
    *_rest, unsigned, _signed = issued["employment"]
    text = " ".join(pdf_text(unsigned).split())
    assert "ATLAS TEXTILES SARL" in text
    assert "2456781" in text
    assert "depuis le 01/08/2025" in text
    assert "déclaré 26 jours de travail" in text
    assert "BE123456" in text and "123456789" in text


def test_the_annual_salary_certificate_lists_twelve_periods_and_the_totals(issued, poppler, pdf_text):
    snapshot, *_rest, unsigned, _signed = issued["annual_salary"]
    text = pdf_text(unsigned)
    for month in range(1, 13):
        assert f"{month:02d}/2025" in text
    assert "Aucune déclaration" in text  # 07/2025 has no line
    assert "89 210,10" in text.replace("\u00a0", " ")
    assert snapshot.facts["totals"]["real_salary"] == 8_921_010


def test_the_declared_days_statement_says_whether_the_pension_threshold_is_reached(issued, poppler, pdf_text):
    *_rest, unsigned, _signed = issued["declared_days"]
    text = " ".join(pdf_text(unsigned).split())
    assert "est atteint" in text
    assert "تم بلوغ" in text
    snapshot = sample_snapshot("declared_days")
    below = dataclasses.replace(snapshot, facts={**snapshot.facts, "total_days": 3000, "threshold_reached": False})
    text = " ".join(pdf_text(render_certificate_pdf(below, qr_payload_url="x")).split())
    assert "n'est pas atteint" in text
    assert "لم يتم بلوغ" in text


def test_the_deregistration_certificate_states_the_exit(issued, poppler, pdf_text):
    *_rest, unsigned, _signed = issued["deregistration"]
    text = " ".join(pdf_text(unsigned).split())
    assert "du 03/05/2021 au 19/06/2025" in text
    assert "Sortie de l'entreprise" in text
    assert "مغادرة المقاولة" in text


def test_the_document_declares_pdf_a_3a_and_is_tagged_for_screen_readers(issued, poppler):
    *_rest, unsigned, signed = issued["affiliation"]
    root = PdfFileReader(BytesIO(unsigned)).root
    xmp = root["/Metadata"].get_object().data
    assert re.search(rb'pdfaid:part(="3"|>3<)', xmp)
    assert re.search(rb'pdfaid:conformance(="A"|>A<)', xmp)
    assert "/OutputIntents" in root
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert "Tagged:          yes" in poppler("pdfinfo", signed)


def test_markup_in_printed_data_is_printed_as_text_and_fetches_nothing(poppler, pdf_text):
    snapshot = sample_snapshot("employment")
    hostile = '<img src="file:///etc/passwd"><b>X</b>'
    evil = dataclasses.replace(
        snapshot,
        holder=dataclasses.replace(snapshot.holder, last_name=hostile),
        facts={
            **snapshot.facts,
            "employer": {
                "name": "<style>@import url(http://198.51.100.1/x.css)</style>",
                "affiliation_number": "2456781",
            },
        },
    )
    started = time.monotonic()
    pdf = render_certificate_pdf(evil, qr_payload_url="x")
    assert time.monotonic() - started < 5
    text = " ".join(pdf_text(pdf).split())
    assert '<img src="file:///etc/passwd"><b>X</b>' in text
    assert "<style>@import url(http://198.51.100.1/x.css)</style>" in text
    assert b"root:x:0:0" not in pdf


def test_a_long_career_still_fits_on_one_page(poppler, pdf_text):
    snapshot = sample_snapshot("declared_days")
    years = [{"year": y, "quarters": [78, 78, 78, 78], "total": 312} for y in range(1981, 2026)]
    long_career = dataclasses.replace(
        snapshot, facts={**snapshot.facts, "years": years, "total_days": 312 * 45, "first_period": "198101"}
    )
    info = poppler("pdfinfo", render_certificate_pdf(long_career, qr_payload_url="x"))
    assert re.search(r"Pages:\s+1\n", info)


def test_an_annual_salary_with_two_employers_every_month_stays_on_one_page_with_one_total(poppler, pdf_text):
    """One page by design (docs/certificates.md): 24 rows, the full-year total printed once, on that page."""
    snapshot = sample_snapshot("annual_salary")
    rows = [
        {
            "period": f"2025{month:02d}",
            "employer": name,
            "affiliation_number": number,
            "days": 13,
            "real_salary": gross,
            "capped_salary": gross,
        }
        for month in range(1, 13)
        for name, number, gross in (("DAR ARGANE COSMETIQUES SA", "1873409", 512_000), ("ATLAS", "2456781", 312_550))
    ]
    totals = {"days": 312, "real_salary": 12 * 824_550, "capped_salary": 12 * 824_550}
    two_jobs = dataclasses.replace(snapshot, facts={**snapshot.facts, "rows": rows, "totals": totals})
    pdf = render_certificate_pdf(two_jobs, qr_payload_url="https://damane.cnss.ma/verify/x#y")
    assert "Pages:           1" in poppler("pdfinfo", pdf)
    text = pdf_text(pdf)
    assert text.count("1873409") == 12 and text.count("2456781") == 12
    assert text.count("Total") == 1
    assert "98 946,00" in text.replace("\u00a0", " ")


def test_an_annual_salary_with_three_employers_prints_totals_per_month_and_per_employer(poppler):
    """Past 24 lines (docs/decisions.md, "Long tables"): one page, a line per month and per employer, one total."""
    snapshot = sample_snapshot("annual_salary")
    employers = [("DAR ARGANE COSMETIQUES SA", "1873409", 512_000), ("ATLAS", "2456781", 312_550)]
    employers.append(("SOUSS PRIMEURS", "3344556", 100_000))
    rows = [
        {"period": f"2025{month:02d}", "employer": name, "affiliation_number": number, "days": 8}
        | {"real_salary": gross, "capped_salary": gross}
        for month in range(1, 13)
        for name, number, gross in employers
        if not (number == "3344556" and month > 10)  # the third job ended in October
    ]
    assert len(rows) == 34
    totals = {"days": 272, "real_salary": 10_894_600, "capped_salary": 10_894_600}
    three_jobs = dataclasses.replace(snapshot, facts={**snapshot.facts, "rows": rows, "totals": totals})
    pdf = render_certificate_pdf(three_jobs, qr_payload_url="https://damane.cnss.ma/verify/x#y")
    assert "Pages:           1" in poppler("pdfinfo", pdf)
    # The layout mode keeps each table row on one line.
    text = " ".join(poppler("pdftotext", pdf, "-layout", "-enc", "UTF-8").replace("\u00a0", " ").split())
    # Each employer once, with its months, days and totals.
    assert text.count("1873409") == 1 and text.count("2456781") == 1 and text.count("3344556") == 1
    assert "DAR ARGANE COSMETIQUES SA 1873409 12 96 61 440,00 61 440,00" in text
    assert "ATLAS 2456781 12 96 37 506,00 37 506,00" in text
    assert "SOUSS PRIMEURS 3344556 10 80 10 000,00 10 000,00" in text
    # October with three employers, November with two; the full-year total once.
    assert "10/2025 3 24 9 245,50" in text and "11/2025 2 16 8 245,50" in text
    assert text.count("Total") == 1
    assert "272 108 946,00 108 946,00" in text


def test_the_template_stylesheet_is_parsed_once_per_process_for_each_type():
    """Issue 10: WeasyPrint parsed the <style> of every certificate again; the parsed sheet is now reused."""
    from certificates import rendering

    rendering._stylesheet.cache_clear()
    for kind in ("employment", "employment", "declared_days", "employment"):
        render_certificate_pdf(sample_snapshot(kind), qr_payload_url="http://127.0.0.1:8000/verify/x#DMN2.x")
    info = rendering._stylesheet.cache_info()
    assert (info.misses, info.hits) == (2, 2)


def test_the_qr_code_is_one_raster_image_printed_without_smoothing(issued):
    """A PNG with whole pixels per module, drawn with /Interpolate false: square modules, no SVG path to draw."""
    from certificates.rendering import qr_png_data_uri

    *_rest, unsigned, _signed = issued["employment"]
    assert unsigned.count(b"/Subtype /Image") == 1
    assert b"/Interpolate false" in unsigned
    assert qr_png_data_uri("http://127.0.0.1:8000/verify/x").startswith("data:image/png;base64,")
