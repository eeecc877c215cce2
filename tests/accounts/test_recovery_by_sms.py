"""Account recovery by SMS for workers without e-mail access: the code goes to the employer-declared phone
through the activation's code path, with the same limits, and the answer is the same for unknown pairs."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from freezegun import freeze_time

from accounts import sms
from accounts.models import OneTimeCode, SmsMessage
from audit.models import AuditEntry
from tests.accounts.accounts_testkit import last_code

NEW_PASSWORD = "un nouveau mot de passe solide"


@pytest.fixture
def amina_account(client, active_amina):
    """Amina's activated account, logged out, her activation SMS two minutes old and out of the outbox."""
    client.logout()
    SmsMessage.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    sms.outbox.clear()
    mail.outbox.clear()
    return active_amina


def start(client, cnss_number, cin):
    return client.post("/password-reset/sms/", {"cnss_number": cnss_number, "cin": cin})


def main_text(response):
    html = response.content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r' value="[^"]*"', "", main)


def test_a_worker_gets_a_code_on_the_declared_phone_and_chooses_a_new_password(client, amina_account):
    response = start(client, "100 234 561", "be123456")
    assert response.status_code == 302 and response["Location"] == "/password-reset/sms/code/"
    [(to, body)] = sms.outbox
    assert to == amina_account.insured.phone
    assert "new password" in body
    code = last_code()
    response = client.post("/password-reset/sms/code/", {"code": code, "new_password": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/login/"
    amina_account.refresh_from_db()
    assert amina_account.check_password(NEW_PASSWORD)
    assert OneTimeCode.objects.get(purpose="recovery").used_at is not None
    assert AuditEntry.objects.filter(action="accounts.user.recovered_by_sms", object_id=str(amina_account.pk)).exists()
    assert [m.to for m in mail.outbox][-1] == [amina_account.email]  # the owner is told


def test_an_unknown_pair_gets_the_same_pages_and_no_sms(client, amina_account):
    # Frozen: the countdown on the page must not differ by the second between the two requests.
    with freeze_time(timezone.now()):
        known = client.get(start(client, "100234561", "BE123456")["Location"])
        other = type(client)(headers={"accept-language": "en"})
        unknown = other.get(start(other, "100234561", "XX999999")["Location"])
    assert main_text(known) == main_text(unknown)
    assert len(sms.outbox) == 1
    wrong = other.post("/password-reset/sms/code/", {"code": "123456", "new_password": NEW_PASSWORD})
    assert "This code is not valid." in wrong.content.decode()


def test_a_wrong_code_changes_nothing_and_counts_like_an_activation_code(client, amina_account):
    start(client, "100234561", "BE123456")
    code = last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    page = client.post("/password-reset/sms/code/", {"code": wrong, "new_password": NEW_PASSWORD}).content.decode()
    assert "<title>Error:" in page and 'href="#id_code"' in page
    amina_account.refresh_from_db()
    assert not amina_account.check_password(NEW_PASSWORD)
    assert OneTimeCode.objects.get(purpose="recovery").tries == 1


def test_a_weak_new_password_is_refused_before_the_code_is_used(client, amina_account):
    start(client, "100234561", "BE123456")
    page = client.post("/password-reset/sms/code/", {"code": last_code(), "new_password": "short"}).content.decode()
    assert 'href="#id_new_password"' in page
    assert OneTimeCode.objects.get(purpose="recovery").used_at is None


def test_sends_share_the_activation_limits_of_the_phone_number(client, amina_account):
    with freeze_time(timezone.now()) as frozen:
        start(client, "100234561", "BE123456")
        start(client, "100234561", "BE123456")
        assert len(sms.outbox) == 1  # 60 s between two sends to a number
        frozen.tick(61)
        start(client, "100234561", "BE123456")
        assert len(sms.outbox) == 2
    assert SmsMessage.objects.filter(purpose="recovery", status="sent").count() == 2


@pytest.mark.django_db
def test_the_login_and_reset_pages_lead_to_recovery_by_sms(client):
    assert 'href="/password-reset/sms/"' in client.get("/login/").content.decode()
    assert 'href="/password-reset/sms/"' in client.get("/password-reset/").content.decode()


# --- A stranger learns nothing from the code page (issue 19, items 1 and 2) -----------------

REAL = ("100234561", "BE123456")
MADE_UP = [("100234561", "XX999999"), ("199999995", "ZZ123456")]


def error_of(response):
    """The messages tied to the form's fields, in page order."""
    found = re.findall(r'<p class="error-message"[^>]*>(.*?)</p>', response.content.decode(), re.S)
    return [re.sub(r"<[^>]+>", "", text).replace("Error:", "").strip() for text in found]


def two_sessions(client, made_up):
    other = type(client)(headers={"accept-language": "en"})
    start(client, *REAL)
    start(other, *made_up)
    return client, other


def post_code(client, code, password=NEW_PASSWORD):
    return client.post("/password-reset/sms/code/", {"code": code, "new_password": password})


def wrong_code():
    return f"{(int(last_code()) + 1) % 1_000_000:06d}"


@pytest.mark.parametrize("made_up", MADE_UP)
def test_a_password_like_the_account_gets_the_same_answer_as_for_a_made_up_pair(client, amina_account, made_up):
    with freeze_time(timezone.now()):
        real, fake = two_sessions(client, made_up)
        wrong = wrong_code()
        for password in (amina_account.username + "abc", amina_account.email, "BE123456 et encore"):
            answers = [post_code(session, wrong, password) for session in (real, fake)]
            assert main_text(answers[0]) == main_text(answers[1])
            assert "This code is not valid." in answers[0].content.decode()
            assert "looks too much like" not in answers[0].content.decode()
    amina_account.refresh_from_db()
    assert not amina_account.check_password(amina_account.email)


@pytest.mark.parametrize("made_up", MADE_UP)
def test_eleven_wrong_codes_walk_the_same_states_for_a_real_and_a_made_up_pair(client, amina_account, made_up):
    with freeze_time(timezone.now()) as frozen:
        real, fake = two_sessions(client, made_up)
        wrong = wrong_code()
        seen = {"real": [], "fake": []}
        for attempt in range(1, 12):
            if attempt == 6:
                # A new code for both (the first is dead after 5 tries); the account count goes on.
                frozen.tick(61)
                start(real, *REAL)
                start(fake, *made_up)
                wrong = wrong_code()
            for name, session in (("real", real), ("fake", fake)):
                response = post_code(session, wrong, amina_account.username + "abc")
                assert response.status_code == 200
                seen[name].append((main_text(response), error_of(response)))
        assert [text for text, _ in seen["real"]] == [text for text, _ in seen["fake"]]
        messages = [errors for _, errors in seen["real"]]
    assert all("This code is not valid." in m[0] for m in messages[:4] + messages[5:9])
    assert "Too many wrong tries for this code." in messages[4][0]
    assert all("Too many wrong codes" in m[0] for m in messages[9:])
    assert len(sms.outbox) == 2
    # Locked, the right code is refused too, and the password's closeness to the account is never told.
    right = post_code(real, last_code(), amina_account.username + "abc").content.decode()
    assert "Too many wrong codes" in right and "looks too much like" not in right


@pytest.mark.parametrize("made_up", MADE_UP)
def test_a_refused_sms_looks_like_a_sent_one(client, amina_account, made_up):
    # The phone had an SMS a moment ago (its activation): the recovery SMS is refused.
    SmsMessage.objects.update(created_at=timezone.now() - timedelta(seconds=20))
    with freeze_time(timezone.now()):
        real, fake = two_sessions(client, made_up)
        assert sms.outbox == []
        pages = [session.get("/password-reset/sms/code/") for session in (real, fake)]
        assert main_text(pages[0]) == main_text(pages[1])
        for _attempt in range(6):
            answers = [post_code(session, "123456") for session in (real, fake)]
            assert main_text(answers[0]) == main_text(answers[1])
        assert "Too many wrong tries for this code." in answers[0].content.decode()
        assert "expired" not in answers[0].content.decode()


def test_starting_again_within_a_minute_keeps_the_code_and_its_tries_for_any_pair(client, amina_account):
    with freeze_time(timezone.now()) as frozen:
        real, fake = two_sessions(client, MADE_UP[0])
        wrong = wrong_code()
        for session in (real, fake):
            for _attempt in range(4):
                post_code(session, wrong)
        frozen.tick(30)
        start(real, *REAL)
        start(fake, *MADE_UP[0])
        answers = [post_code(session, wrong) for session in (real, fake)]
        assert main_text(answers[0]) == main_text(answers[1])
        assert "Too many wrong tries for this code." in answers[0].content.decode()
        assert 'data-countdown="30"' in answers[0].content.decode()
    assert len(sms.outbox) == 1


def test_a_right_code_with_a_password_like_the_account_keeps_the_code(client, amina_account):
    start(client, *REAL)
    code = last_code()
    page = post_code(client, code, amina_account.username + "abc").content.decode()
    assert 'href="#id_new_password"' in page and "looks too much like your CNSS number" in page
    assert OneTimeCode.objects.get(purpose="recovery").used_at is None
    amina_account.refresh_from_db()
    assert not amina_account.check_password(amina_account.username + "abc")
    response = post_code(client, code)
    assert response.status_code == 302 and response["Location"] == "/login/"
    amina_account.refresh_from_db()
    assert amina_account.check_password(NEW_PASSWORD)


def test_a_code_is_accepted_once(client, amina_account):
    start(client, *REAL)
    code = last_code()
    assert post_code(client, code).status_code == 302
    start(client, *REAL)  # within the minute: no new code
    page = post_code(client, code, "encore un autre mot de passe").content.decode()
    assert "This code has expired or was already used." in page
    amina_account.refresh_from_db()
    assert amina_account.check_password(NEW_PASSWORD)


def test_the_pair_is_never_stored(client, amina_account):
    from accounts.models import RecoveryRequest

    start(client, *REAL)
    start(type(client)(), *MADE_UP[0])
    keys = list(RecoveryRequest.objects.values_list("key", flat=True))
    assert len(keys) == 2
    assert not any("100234561" in key or "BE123456" in key.upper() or "XX999999" in key.upper() for key in keys)


def test_wrong_activation_codes_on_a_decoy_registration_do_not_bring_the_recovery_lock_sooner(client, amina_account):
    """The account's code counter can be fed through a decoy registration: recovery counts per pair instead."""
    from tests.accounts.accounts_testkit import register

    stranger = type(client)(headers={"accept-language": "en"})
    with freeze_time(timezone.now()) as frozen:
        frozen.tick(61)
        register(stranger, amina_account.insured, email="stranger@example.ma")
        for _attempt in range(5):
            stranger.post("/register/activate/", {"code": "123456"})
        real, fake = two_sessions(client, MADE_UP[0])
        for attempt in range(1, 11):
            if attempt == 6:
                frozen.tick(61)
                start(real, *REAL)
                start(fake, *MADE_UP[0])
            answers = [post_code(session, "123456") for session in (real, fake)]
            assert main_text(answers[0]) == main_text(answers[1])
            locked = "Too many wrong codes" in answers[0].content.decode()
            assert locked == (attempt == 10), attempt


def test_pairs_nobody_typed_for_a_day_are_forgotten_and_start_again_like_any_pair(client, amina_account):
    from accounts.models import RecoveryRequest
    from accounts.tasks import prune_recovery_requests

    start(client, "100234561", "BE123456")
    start(type(client)(headers={"accept-language": "en"}), "999999999", "ZZ999999")  # a made-up pair
    assert RecoveryRequest.objects.count() == 2
    assert prune_recovery_requests() == 0  # typed a moment ago: kept
    RecoveryRequest.objects.update(updated_at=timezone.now() - timedelta(days=1, minutes=1))
    assert prune_recovery_requests() == 2 and not RecoveryRequest.objects.exists()
    # Typed again the next day: a fresh row, and the code goes out as the first time.
    sms.outbox.clear()
    with freeze_time(timezone.now() + timedelta(days=1, minutes=2)):
        assert start(client, "100234561", "BE123456")["Location"] == "/password-reset/sms/code/"
    assert len(sms.outbox) == 1 and RecoveryRequest.objects.count() == 1


def test_the_beat_runs_the_prune_daily_and_the_arrears_alerts_every_hour_from_their_hour(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["accounts.prune-recovery-requests"]["task"] == "accounts.tasks.prune_recovery_requests"
    arrears = schedule["alerts.arrears-alerts"]["schedule"]
    assert sorted(arrears.hour) == list(range(settings_hour(), 24))


def settings_hour():
    import os

    return int(os.environ.get("DAMANE_ARREARS_ALERTS_HOUR") or 8)
