"""Every form shows its errors the GOV.UK way: a summary linking to the fields, "Error:" in the title,
messages tied to their inputs, and what was typed kept (passwords excepted)."""

import re

import pytest
from django.utils import timezone
from freezegun import freeze_time

from tests.accounts.accounts_testkit import register


def ids_on(page):
    return set(re.findall(r'\bid="([^"]+)"', page))


def described_ids(page):
    return {i for value in re.findall(r'aria-describedby="([^"]+)"', page) for i in value.split()}


@pytest.mark.django_db
def test_every_hint_a_registration_field_points_to_exists(client):
    page = client.get("/register/").content.decode()
    assert described_ids(page), "the fields have hints"
    assert described_ids(page) <= ids_on(page)
    assert "<title>Error:" not in page and "error-summary" not in page


def test_a_registration_error_is_summarised_linked_tied_to_its_field_and_keeps_what_was_typed(client, amina):
    page = register(client, amina, cin="123456", email="amina@example.ma").content.decode()
    assert page.count("<title>Error: ") == 1
    start = page.index('<div class="error-summary"')
    summary = page[start : page.index("</div>", start)]
    assert "autofocus" in summary.split(">")[0]
    assert 'href="#id_cin"' in summary
    cin_input = re.search(r"<input[^>]*name=\"cin\"[^>]*>", page).group(0)
    assert 'aria-invalid="true"' in cin_input
    assert 'aria-describedby="id_cin-hint id_cin-error"' in cin_input
    assert 'id="id_cin-error"' in page
    assert described_ids(page) <= ids_on(page)
    # Non-secret values stay; the password does not come back in the page.
    assert 'value="amina@example.ma"' in page and 'value="100234561"' in page
    password_input = re.search(r"<input[^>]*name=\"password\"[^>]*>", page).group(0)
    assert "value=" not in password_input
    assert "data-password-toggle" in page


def test_a_password_refused_by_django_s_validators_is_an_error_on_the_password(client, amina):
    page = register(client, amina, password="short pass").content.decode()
    assert 'href="#id_password"' in page
    assert "This password is too short: use at least 12 characters." in page


def test_the_new_code_button_counts_down_the_sixty_seconds_after_a_send(client, amina):
    with freeze_time(timezone.now()) as frozen:
        register(client, amina)
        page = client.get("/register/activate/").content.decode()
        button = re.search(r'<button[^>]*id="resend-button"[^>]*>', page).group(0)
        assert "disabled" in button
        assert re.search(r'data-countdown="(5\d|60)"', page)
        frozen.tick(61)
        page = client.get("/register/activate/").content.decode()
        button = re.search(r'<button[^>]*id="resend-button"[^>]*>', page).group(0)
        assert "disabled" not in button and "data-countdown=" not in page


def test_the_already_registered_paragraph_is_folded_away(client, amina):
    register(client, amina)
    page = client.get("/register/activate/").content.decode()
    assert re.search(r"<details>\s*<summary>Did you already open an account\?</summary>", page)
