"""The sample of the treaty periods certificate (``manage.py render_samples``, the tests, docs/samples/)."""

from __future__ import annotations

from datetime import date

from certificates.documents import HolderSnapshot
from certificates.samples import ISSUED_ON, Sample
from treaties.rules import Period as ForeignPeriod
from treaties.rules import Rule, cumulate

HASSAN = HolderSnapshot(
    last_name="AMRANI",
    first_name="Hassan",
    last_name_ar="العمراني",
    first_name_ar="حسن",
    cin="EE778899",
    cnss_number="100901238",
    birth_date=date(1964, 9, 5),
)


def _treaty() -> dict:
    """Hassan worked in France 1986-2008 (quarters reported by the CNAV), then in Morocco."""
    moroccan_years = []
    for year in range(2008, 2026):
        quarters = [0, 0, 60, 78] if year == 2008 else [78, 78, 78, 78]
        moroccan_years.append({"year": year, "quarters": quarters, "total": sum(quarters)})
    moroccan = {(y["year"], q + 1): d for y in moroccan_years for q, d in enumerate(y["quarters"]) if d}
    institution = "Caisse nationale d'assurance vieillesse (CNAV)"
    periods = [
        ForeignPeriod("FR", institution, date(1986, 3, 1), date(1995, 12, 31), "quarters", 39, "CNAV 1986-1995"),
        ForeignPeriod("FR", institution, date(1996, 4, 1), date(2008, 9, 30), "quarters", 50, "CNAV 1996-2008"),
    ]
    counted = cumulate(moroccan=moroccan, periods=periods, rule=Rule(), threshold=3240)
    return {
        "convention": {
            "country": "FR",
            "name_fr": "France",
            "name_ar": "فرنسا",
            "title_fr": "Convention de sécurité sociale entre le Royaume du Maroc et la République française",
            "title_ar": "اتفاقية الضمان الاجتماعي بين المملكة المغربية والجمهورية الفرنسية",
            "institution": institution,
            "institution_ar": "الصندوق الوطني للتأمين على الشيخوخة",
            "rule": {"days_per_quarter": 78, "days_per_month": 26, "quarter_max": 78},
        },
        "request_reference": "DEM-2026-0004217",
        "version": 1,
        "as_of": ISSUED_ON.isoformat(),
        "moroccan": {
            "years": moroccan_years,
            "total_days": sum(y["total"] for y in moroccan_years),
            "first_period": "200807",
            "last_period": "202512",
        },
        **counted,
    }


def sample() -> Sample:
    return Sample(
        holder=HASSAN,
        facts=_treaty(),
        public_id="Tr4Yq9Lm2Xc7Vb5Nw8Kd3f",
        verification_code="R5KW-9PXT-3MZQ-7HVC-4NJD-8GEB",
    )
