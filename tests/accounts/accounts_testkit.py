"""Helpers for the account tests: SMS codes, registration posts, a year of declarations."""

import hashlib
import re

from accounts import sms
from declarations.models import Declaration, DeclarationLine, EbdsFile
from declarations.periods import Period, period_range
from registry.models import Employer, Employment

PASSWORD = "ciel bleu sur la corniche"
CODE_RE = re.compile(r"\b(\d{6})\b")


def last_code(phone=None):
    to, body = sms.outbox[-1]
    assert phone is None or to == phone
    return CODE_RE.search(body).group(1)


def make_employer(number, name):
    return Employer.objects.create(affiliation_number=number, name=name, city="CASABLANCA")


def declare(employer, insured, periods, *, days=26, salary=650_000):
    """Current declarations of ``employer`` for ``periods``, each with a line for ``insured``."""
    for period in periods:
        text = f"accounts test declaration {employer.affiliation_number} {period}"
        source = EbdsFile.objects.create(
            name=f"DS_{employer.affiliation_number}_{period}.txt",
            sha256=hashlib.sha256(text.encode()).hexdigest(),
            content=text,
            employer=employer,
            period=str(period),
        )
        declaration = Declaration.objects.create(
            employer=employer,
            period=str(period),
            source_file=source,
            employee_count=1,
            total_days=days,
            total_real_salary=salary,
            total_capped_salary=min(salary, 600_000),
        )
        DeclarationLine.objects.create(
            declaration=declaration,
            insured=insured,
            employer=employer,
            period=str(period),
            declared_name=insured.full_name,
            days=days,
            real_salary=salary,
            capped_salary=min(salary, 600_000),
        )


def employ(insured, employer, first: Period, last: Period, *, days=26, salary=650_000):
    declare(employer, insured, period_range(first, last), days=days, salary=salary)
    return Employment.objects.create(
        insured=insured,
        employer=employer,
        start_period=str(first),
        start_date=first.first_day,
        last_period=str(last),
    )


def registration_data(insured, **overrides):
    data = {"cnss_number": insured.cnss_number, "cin": insured.cin, "email": "amina@example.ma", "password": PASSWORD}
    data.update(overrides)
    return data


def register(client, insured, **overrides):
    return client.post("/register/", registration_data(insured, **overrides))


# --- SMS backends named in settings.SMS_BACKEND (the worker builds its own) --------

from accounts.sms.backends.base import BaseSmsBackend, SmsBackendError  # noqa: E402
from accounts.sms.backends.locmem import LocmemBackend  # noqa: E402

# Failures still to answer before the backends below send, reset by tests.
FAILURES = {"left": 0}


class BrokenBackend(BaseSmsBackend):
    """A provider that refuses every message (it certainly did not take it)."""

    name = "broken"

    def send(self, *, to, body):
        raise SmsBackendError("provider timed out")


class FlakyBackend(LocmemBackend):
    """Unreachable for the next ``FAILURES["left"]`` messages, then sends (to ``sms.outbox``)."""

    name = "flaky"

    def send(self, *, to, body):
        if FAILURES["left"] > 0:
            FAILURES["left"] -= 1
            raise SmsBackendError("connection refused")
        return super().send(to=to, body=body)


class LostAnswerBackend(LocmemBackend):
    """Takes the message, then the answer is lost (a read timeout): it did go."""

    name = "lostanswer"

    def send(self, *, to, body):
        super().send(to=to, body=body)
        raise SmsBackendError("read timed out", delivery_unknown=True)
