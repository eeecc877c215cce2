"""No page answered to a signed-in user may be kept by a cache (docs/security.md §9, 15; issue 8).

The routes come from the URL resolver, as in the hostile sweep: a page added later is audited too.
"""

import pytest
from django.urls import reverse

from accounts.models import User
from casework.models import CaseKind
from casework.services import case_create
from tests.test_hostile_sweep import _client, all_routes

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["insured", "agent", "supervisor", "superuser"])
def test_every_page_a_signed_in_user_gets_is_no_store(role, settings):
    settings.DAMANE_VERIFY_LOOKUPS_PER_MINUTE = 10**6
    client = _client(role)
    audited, cached = 0, []
    for route in all_routes():
        if route.params or "logout" in route.name:
            continue
        response = client.get(route.template)
        if response.status_code == 200:
            audited += 1
            if "no-store" not in response.get("Cache-Control", ""):
                cached.append(f"{route.template} ({route.name}): Cache-Control={response.get('Cache-Control')!r}")
    assert audited >= 5
    assert not cached, "pages a cache may keep:\n" + "\n".join(cached)


def test_the_requests_list_and_a_request_page_are_no_store():
    client = _client("insured")
    insured = User.objects.get(username="100234561").insured
    case = case_create(insured=insured, kind=CaseKind.TREATY, details={"country": "FR"}, message="")
    for url in (reverse("casework:list"), reverse("casework:detail", args=[case.reference])):
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_public_pages_stay_cacheable_for_visitors(client):
    assert "no-store" not in client.get(reverse("verification:keys")).get("Cache-Control", "")
