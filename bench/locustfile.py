"""The mixed workload of the load test (issue 10, item 5): run through bench/run_locust.py.

Insured persons (``Insured``) come back every ``DAMANE_LOCUST_VISIT_SECONDS``
for a visit: log in, dashboard, certificates page, on one visit in two
(``DAMANE_LOCUST_ISSUE_SHARE``) ask for a certificate (the form, the 302 to
the new certificate, its page), log out. Verifiers (``Verifier``) look certificates
up every ``DAMANE_LOCUST_LOOKUP_SECONDS``: two verify pages (the QR code's
address) for one API look-up. The rates these give are worked out in
docs/scaling.md ("Expected peak").

Every simulated person or verifier has a client address of its own, sent in
X-Forwarded-For as the proxy in front of gunicorn would (the stack trusts one
proxy): per-address limits apply per person, as in production.

Environment: DAMANE_LOCUST_ACCOUNTS (a file of CNSS numbers, one a line),
DAMANE_LOCUST_CERTIFICATES (a file of "public_id code" lines), DAMANE_LOCUST_PASSWORD.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import sys
from pathlib import Path

from locust import HttpUser, constant_pacing, task

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stack

ACCOUNTS = Path(os.environ["DAMANE_LOCUST_ACCOUNTS"]).read_text().split()
CERTIFICATES = [line.split() for line in Path(os.environ["DAMANE_LOCUST_CERTIFICATES"]).read_text().splitlines()]
PASSWORD = os.environ.get("DAMANE_LOCUST_PASSWORD", stack.PASSWORD)
# Kinds every seeded person may ask for online (declared days: never blocked; affiliation:
# blocked only while an identity is corrected, which the refusal page then says).
KINDS = ("declared_days", "affiliation")
# Share of visits that ask for a certificate (docs/scaling.md: issuances / logins at the peak).
ISSUE_SHARE = float(os.environ.get("DAMANE_LOCUST_ISSUE_SHARE", "0.5"))
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_addresses = (f"10.{a}.{b}.{c}" for a, b, c in itertools.product(range(10, 250), range(1, 250), range(1, 250)))


class Insured(HttpUser):
    wait_time = constant_pacing(float(os.environ.get("DAMANE_LOCUST_VISIT_SECONDS", "20")))
    weight = int(os.environ.get("DAMANE_LOCUST_INSURED_WEIGHT", "10"))

    def on_start(self):
        stack.send_secure_cookies_over_http(self.client)
        self.client.headers["X-Forwarded-For"] = next(_addresses)

    def _csrf(self, response) -> str:
        found = CSRF_RE.search(response.text)
        return found.group(1) if found else self.client.cookies.get("csrftoken", "")

    @task
    def visit(self):
        cnss = random.choice(ACCOUNTS)
        page = self.client.get("/login/", name="login page")
        with self.client.post(
            "/login/",
            data={"csrfmiddlewaretoken": self._csrf(page), "identifier": cnss, "password": PASSWORD},
            allow_redirects=False,
            name="login",
            catch_response=True,
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"login answered {answer.status_code}")
                return
        self.client.get("/me/", name="dashboard")
        self.client.get("/certificates/", name="certificates page")
        if random.random() < ISSUE_SHARE:
            self._issue()
        self.client.post(
            "/logout/", data={"csrfmiddlewaretoken": self.client.cookies.get("csrftoken", "")}, name="logout"
        )

    def _issue(self):
        kind = random.choice(KINDS)
        url = f"/certificates/new/{kind}/"
        form = self.client.get(url, name="certificate form")
        with self.client.post(
            url,
            data={"csrfmiddlewaretoken": self._csrf(form)},
            allow_redirects=False,
            name="issue",
            catch_response=True,
        ) as answer:
            location = answer.headers.get("Location") if answer.status_code == 302 else None
            # 200: the form again, the rules refused this kind and said why (a correct answer).
            if answer.status_code not in (200, 302):
                answer.failure(f"issue answered {answer.status_code}")
        if location:
            self.client.get(location, name="certificate page (after issuing)")


class Verifier(HttpUser):
    wait_time = constant_pacing(float(os.environ.get("DAMANE_LOCUST_LOOKUP_SECONDS", "2.2")))
    weight = int(os.environ.get("DAMANE_LOCUST_VERIFIER_WEIGHT", "1"))

    def on_start(self):
        self.turn = 0

    @task
    def look_up(self):
        public_id, code = random.choice(CERTIFICATES)
        # Many verifiers: each look-up from an address of its own (the limit is 30 a minute per address).
        headers = {"X-Forwarded-For": next(_addresses)}
        self.turn += 1
        if self.turn % 3:
            self.client.get(f"/verify/{public_id}", headers=headers, name="verify page")
        else:
            with self.client.get(
                "/api/v1/verify", params={"code": code}, headers=headers, name="verify API", catch_response=True
            ) as answer:
                if answer.status_code == 200 and answer.json().get("genuine") is not True:
                    answer.failure("a certificate issued for the test was not found genuine")
