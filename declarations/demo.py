"""Demo data: the personas and a realistic crowd, as e-BDS declarations.

Everything is relative to ``today`` so that the personas keep demonstrating
what they are meant to (one employer one period behind, another in arrears, an
employment that ended over a year ago) whenever the demo is seeded. The crowd is
drawn from a seeded random generator: the same day gives the same files.

``build_demo(today)`` is pure: it returns the declarations and the registration
records; ``seed_demo`` (the management command) writes and imports them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from declarations.ebds import EbdsDeclaration, EbdsLine
from declarations.periods import Period, period_range
from declarations.status import expected_period


@dataclass(frozen=True)
class DemoEmployer:
    affiliation_number: str
    name: str
    activity: str
    address: str
    city: str
    postal_code: str
    agency_code: str
    # Last period this employer declares, relative to E (0: up to date, -1: one
    # period behind, -3: in arrears).
    lag: int = 0


@dataclass(frozen=True)
class DemoPerson:
    cnss_number: str
    cin: str
    last_name: str
    first_name: str
    last_name_ar: str
    first_name_ar: str
    birth_date: date
    sex: str
    phone: str
    previous_cins: tuple[str, ...] = ()
    treaty_country: str = ""

    @property
    def name(self) -> str:
        """The name as the employer declares it in e-BDS: "LAST FIRST"."""
        return f"{self.last_name} {self.first_name}"


@dataclass(frozen=True)
class Spell:
    """A person employed by an employer from ``start`` to ``end`` (None: ongoing)."""

    person: DemoPerson
    employer: DemoEmployer
    start: Period
    end: Period | None
    monthly_salary: int  # centimes
    days: int = 26
    exit_situation: str = "SO"


@dataclass
class DemoData:
    declarations: list[EbdsDeclaration] = field(default_factory=list)
    people: list[DemoPerson] = field(default_factory=list)
    personas: dict[str, DemoPerson] = field(default_factory=dict)


EMPLOYERS = {
    "atlas": DemoEmployer(
        "1234567", "ATLAS TEXTILES SARL", "CONFECTION", "12 RUE DE FES, QUARTIER INDUSTRIEL", "TANGER", "90000", "12"
    ),
    "digital": DemoEmployer(
        "2345678", "MAROC DIGITAL SERVICES SA", "SERVICES INFORMATIQUES", "45 BD ZERKTOUNI", "CASABLANCA", "20000", "01"
    ),
    "corniche": DemoEmployer(
        "3456789", "CAFE RESTAURANT LA CORNICHE", "RESTAURATION", "7 BD DE LA CORNICHE", "CASABLANCA", "20180", "01"
    ),
    "souss": DemoEmployer(
        "4567890", "BATIMENTS DU SOUSS SARL", "BATIMENT", "23 AV HASSAN II", "AGADIR", "80000", "30", lag=-1
    ),
    "nord": DemoEmployer(
        "5678901", "TRANSPORTS RAPIDES DU NORD", "TRANSPORT", "88 RUE MOHAMED V", "TETOUAN", "93000", "14", lag=-3
    ),
    "oasis": DemoEmployer("6789012", "CLINIQUE OASIS", "SANTE", "5 AV ALLAL EL FASSI", "MARRAKECH", "40000", "20"),
}

PERSONAS = {
    "amina": DemoPerson(
        "100234561", "BE123456", "BENNANI", "AMINA", "بناني", "أمينة", date(1984, 5, 14), "F", "+212612345601"
    ),
    "youssef": DemoPerson(
        "100345672", "J456789", "ALAMI", "YOUSSEF", "العلمي", "يوسف", date(1990, 2, 3), "M", "+212612345602"
    ),
    "karim": DemoPerson(
        "100456783", "JB234567", "TAZI", "KARIM", "التازي", "كريم", date(1987, 11, 21), "M", "+212612345603"
    ),
    "fatima": DemoPerson(
        "100567894",
        "L345678",
        "OUAZZANI",
        "FATIMA ZAHRA",
        "الوزاني",
        "فاطمة الزهراء",
        date(1992, 7, 9),
        "F",
        "+212612345604",
    ),
    "rachid": DemoPerson(
        "100678905", "K456789", "BERRADA", "RACHID", "برادة", "رشيد", date(1979, 1, 30), "M", "+212612345605"
    ),
    "salma": DemoPerson(
        "100789016",
        "BK654321",
        "CHRAIBI",
        "SALMA",
        "الشرايبي",
        "سلمى",
        date(1995, 9, 17),
        "F",
        "+212612345606",
        previous_cins=("B345678",),
    ),
    # The registry (and the employer) misspell BENJELLOUN: the name-correction persona.
    "mohamed": DemoPerson(
        "100890127",
        "BH112233",
        "BENJLLOUN",
        "MOHAMED",
        "بنجلون",
        "محمد",
        date(1988, 4, 2),
        "M",
        "+212612345607",
    ),
    "hassan": DemoPerson(
        "100901238",
        "EE778899",
        "AMRANI",
        "HASSAN",
        "العمراني",
        "حسن",
        date(1975, 12, 12),
        "M",
        "+212612345608",
        treaty_country="FR",
    ),
}

PERSONA_NOTES = {
    "amina": "Up to date, career since 2011 past the 3,240-day pension threshold (two employers in turn).",
    "youssef": "Two simultaneous employers, both up to date: the certificate form asks for the main one.",
    "karim": "Employer one period behind: employment certificate on the last declared period.",
    "fatima": "Employer in arrears: employment and annual salary certificates blocked.",
    "rachid": "Employment ended over a year ago: deregistration and non-affiliation certificates.",
    "salma": "CIN renewed: registering with the old CIN gets the outdated-ID guidance.",
    "mohamed": "Name misspelled by the employer (BENJLLOUN): correction request.",
    "hassan": "Also worked in France: treaty (cumulative periods) request.",
}

# The crowd: ordinary employees across a few dozen employers.
_FIRST_NAMES = [
    ("M", "MOHAMED", "محمد"),
    ("M", "AHMED", "أحمد"),
    ("M", "OMAR", "عمر"),
    ("M", "ABDELLAH", "عبد الله"),
    ("M", "MEHDI", "المهدي"),
    ("M", "HAMZA", "حمزة"),
    ("M", "AYOUB", "أيوب"),
    ("M", "SAID", "سعيد"),
    ("M", "NOUREDDINE", "نور الدين"),
    ("M", "ISMAIL", "إسماعيل"),
    ("M", "ANAS", "أنس"),
    ("M", "ADIL", "عادل"),
    ("F", "KHADIJA", "خديجة"),
    ("F", "NADIA", "نادية"),
    ("F", "IMANE", "إيمان"),
    ("F", "HOUDA", "هدى"),
    ("F", "SANAA", "سناء"),
    ("F", "ZINEB", "زينب"),
    ("F", "MERYEM", "مريم"),
    ("F", "GHIZLANE", "غزلان"),
    ("F", "LATIFA", "لطيفة"),
    ("F", "SAMIRA", "سميرة"),
    ("F", "HAJAR", "هاجر"),
    ("F", "OUMAIMA", "أميمة"),
]
_LAST_NAMES = [
    ("EL FASSI", "الفاسي"),
    ("BENJELLOUN", "بنجلون"),
    ("SQALLI", "السقلي"),
    ("LAHLOU", "لحلو"),
    ("BERRADA", "برادة"),
    ("TAZI", "التازي"),
    ("ALAOUI", "العلوي"),
    ("IDRISSI", "الإدريسي"),
    ("BENKIRANE", "بنكيران"),
    ("CHAOUI", "الشاوي"),
    ("ZIANI", "الزياني"),
    ("MANSOURI", "المنصوري"),
    ("OUALI", "الوالي"),
    ("HAJJI", "الحجي"),
    ("RAMI", "الرامي"),
    ("NACIRI", "الناصري"),
    ("SEBTI", "السبتي"),
    ("KETTANI", "الكتاني"),
    ("BOUZIDI", "البوزيدي"),
    ("AMRANI", "العمراني"),
    ("MOUSSAOUI", "الموساوي"),
    ("BAKKALI", "البقالي"),
    ("SAIDI", "السعيدي"),
    ("HAMDAOUI", "الحمداوي"),
]
_CITIES = [
    ("CASABLANCA", "20000", "01"),
    ("RABAT", "10000", "05"),
    ("FES", "30000", "08"),
    ("MARRAKECH", "40000", "20"),
    ("TANGER", "90000", "12"),
    ("AGADIR", "80000", "30"),
    ("MEKNES", "50000", "09"),
    ("OUJDA", "60000", "16"),
]
_TRADES = [
    ("BOULANGERIE", "BOULANGERIE"),
    ("GARAGE", "MECANIQUE AUTOMOBILE"),
    ("PHARMACIE", "PHARMACIE"),
    ("HOTEL", "HOTELLERIE"),
    ("IMPRIMERIE", "IMPRIMERIE"),
    ("AGENCE VOYAGES", "TOURISME"),
    ("LIBRAIRIE", "COMMERCE DE DETAIL"),
    ("SOCIETE AGRICOLE", "AGRICULTURE"),
    ("CABINET COMPTABLE", "COMPTABILITE"),
    ("ECOLE PRIVEE", "ENSEIGNEMENT"),
    ("CALL CENTER", "CENTRE D'APPELS"),
    ("MENUISERIE", "MENUISERIE"),
]
CROWD_EMPLOYERS = 30
CROWD_EMPLOYEES_PER_EMPLOYER = (6, 14)
CROWD_PERIODS = 15


def persona_spells(today: date) -> list[Spell]:
    e = expected_period(today)
    p = PERSONAS
    emp = EMPLOYERS
    return [
        Spell(p["amina"], emp["atlas"], Period(2011, 3), Period(2016, 6), 650_000),
        Spell(p["amina"], emp["digital"], Period(2016, 9), None, 1_850_000),
        Spell(p["youssef"], emp["digital"], e - 30, None, 1_200_000),
        Spell(p["youssef"], emp["corniche"], e - 20, None, 420_000, days=13),
        Spell(p["karim"], emp["souss"], e - 40, None, 520_000),
        Spell(p["fatima"], emp["nord"], e - 36, None, 470_000),
        Spell(p["rachid"], emp["atlas"], e - 70, e - 14, 560_000),
        Spell(p["salma"], emp["oasis"], e - 26, None, 890_000),
        Spell(p["mohamed"], emp["digital"], e - 18, None, 1_100_000),
        Spell(p["hassan"], emp["oasis"], e - 50, None, 760_000),
    ]


def _crowd(rng: random.Random, e: Period) -> tuple[list[DemoEmployer], list[Spell], list[DemoPerson]]:
    employers = []
    for i in range(CROWD_EMPLOYERS):
        trade, activity = _TRADES[i % len(_TRADES)]
        city, postal, agency = _CITIES[i % len(_CITIES)]
        # Pairs of trade and surname that never repeat across the 30 employers.
        surname = _LAST_NAMES[(i * 5 + i // len(_TRADES)) % len(_LAST_NAMES)][0]
        employers.append(
            DemoEmployer(
                affiliation_number=f"{7100000 + i * 37:07d}",
                name=f"{trade} {surname}"[:40],
                activity=activity,
                address=f"{10 + i} RUE {rng.choice(['IBN SINA', 'AL MASSIRA', 'ANFA', 'AL QODS', 'OQBA'])}",
                city=city,
                postal_code=postal,
                agency_code=agency,
            )
        )
    spells, people = [], []
    serial = 0
    # The personas' employers have ordinary employees too.
    for employer in employers + list(EMPLOYERS.values()):
        for _ in range(rng.randint(*CROWD_EMPLOYEES_PER_EMPLOYER)):
            serial += 1
            sex, first, first_ar = rng.choice(_FIRST_NAMES)
            last, last_ar = rng.choice(_LAST_NAMES)
            person = DemoPerson(
                cnss_number=f"{200000000 + serial * 7919:09d}",
                cin=f"{rng.choice(['A', 'B', 'BE', 'BK', 'C', 'D', 'EE', 'G', 'J', 'K'])}{100000 + serial * 13:06d}"[
                    :8
                ],
                last_name=last,
                first_name=first,
                last_name_ar=last_ar,
                first_name_ar=first_ar,
                birth_date=date(rng.randint(1965, 2004), rng.randint(1, 12), rng.randint(1, 28)),
                sex=sex,
                phone=f"+2126{rng.randint(10_000_000, 99_999_999)}",
            )
            people.append(person)
            start = e - rng.randint(0, CROWD_PERIODS - 1) if rng.random() < 0.3 else e - (CROWD_PERIODS - 1)
            end = None
            if rng.random() < 0.12 and start < e - 2:
                end = start + rng.randint(1, (e - start) - 1)
            salary = rng.choice([320_000, 350_000, 420_000, 560_000, 780_000, 1_150_000, 2_400_000])
            spells.append(Spell(person, employer, start, end, salary + rng.randint(0, 40) * 1000))
    return employers, spells, people


def build_demo(today: date) -> DemoData:
    e = expected_period(today)
    rng = random.Random(f"damane-demo-{e}")
    crowd_employers, crowd_spells, crowd_people = _crowd(rng, e)
    spells = persona_spells(today) + crowd_spells
    employers = list(EMPLOYERS.values()) + crowd_employers

    by_employer: dict[str, list[Spell]] = {}
    for spell in spells:
        by_employer.setdefault(spell.employer.affiliation_number, []).append(spell)

    data = DemoData(people=list(PERSONAS.values()) + crowd_people, personas=dict(PERSONAS))
    for employer in employers:
        employer_spells = by_employer.get(employer.affiliation_number, [])
        if not employer_spells:
            continue
        first = min(s.start for s in employer_spells)
        last = e + employer.lag
        for period in period_range(first, last):
            lines = []
            seen: set[str] = set()
            for spell in employer_spells:
                end = spell.end or last
                if not spell.start <= period <= end or spell.person.cnss_number in seen:
                    continue
                seen.add(spell.person.cnss_number)
                leaving = spell.end is not None and period == spell.end
                # A month with fewer days now and then (sick leave, late start).
                days = spell.days if rng.random() > 0.06 else rng.randint(10, spell.days)
                lines.append(
                    EbdsLine(
                        cnss_number=spell.person.cnss_number,
                        name=spell.person.name,
                        days=days,
                        real_salary=spell.monthly_salary * days // spell.days,
                        situation=spell.exit_situation if leaving else "",
                        # The employer declared the CIN the person had when hired.
                        cin=(spell.person.previous_cins or (spell.person.cin,))[0],
                        is_new=period == spell.start,
                    )
                )
            if not lines:
                continue
            data.declarations.append(
                EbdsDeclaration(
                    affiliation_number=employer.affiliation_number,
                    period=period,
                    employer_name=employer.name,
                    activity=employer.activity,
                    address=employer.address,
                    city=employer.city,
                    postal_code=employer.postal_code,
                    agency_code=employer.agency_code,
                    issued_on=period.due_date(5),
                    due_on=period.due_date(10),
                    transfer_id=f"{employer.affiliation_number}{period}0",
                    lines=lines,
                )
            )
    return data
