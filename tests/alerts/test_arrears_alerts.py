"""Arrears alerts: opt-in, once per account, employer and missed period, across month boundaries."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from freezegun import freeze_time

from accounts.models import OutboundEmail
from alerts import rules, services, tasks
from alerts.models import AlertPreference, ArrearsAlert
from audit.models import AuditEntry
from declarations.periods import Period
from registry.models import Employment, Insured
from tests.accounts.accounts_testkit import declare, employ, make_employer

# --- The rule, pure ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 12, 10), "202610"),  # due day of 202611 not passed yet
        (date(2026, 12, 11), "202611"),
        (date(2027, 1, 1), "202611"),
        (date(2027, 1, 10), "202611"),
        (date(2027, 1, 11), "202612"),  # across the year
        (date(2027, 3, 1), "202701"),  # after a short February
    ],
)
def test_the_overdue_period_moves_the_day_after_the_due_day(today, expected):
    assert str(rules.overdue_period(today=today, due_day=10)) == expected


def test_an_employment_that_started_after_the_overdue_period_or_a_declared_period_is_no_alert():
    today = date(2026, 12, 11)
    assert rules.missed_period(declared=set(), employment_start=Period(2026, 12), today=today, due_day=10) is None
    assert (
        rules.missed_period(declared={Period(2026, 11)}, employment_start=Period(2020, 1), today=today, due_day=10)
        is None
    )
    assert rules.missed_period(declared=set(), employment_start=Period(2026, 11), today=today, due_day=10) == Period(
        2026, 11
    )


# --- The scheduled job, with time travel -------------------------------------------


def _account(django_user_model, cnss, cin, *, language="fr", email="worker@example.ma", opted_in=True):
    insured = Insured.objects.create(
        cnss_number=cnss, cin=cin, last_name="OUAZZANI", first_name="FATIMA ZAHRA", registered_on=date(2015, 1, 1)
    )
    user = django_user_model.objects.create_user(
        username=cnss, email=email, password="a long enough pass 42", insured=insured, language=language
    )
    if opted_in:
        services.alert_preference_set(user=user, enabled=True)
    return user


@pytest.fixture
def fatima(django_user_model):
    return _account(django_user_model, "100567894", "L345678", language="ar")


@pytest.fixture
def employer():
    return make_employer("3456789", "ATLAS TEXTILES")


def hire(insured, employer, first: Period) -> Employment:
    """A colleague on the same declarations (the employer's own are written once)."""
    return Employment.objects.create(
        insured=insured, employer=employer, start_period=str(first), start_date=first.first_day, last_period="202610"
    )


def run_on(day: str) -> list[ArrearsAlert]:
    with freeze_time(day):
        return services.arrears_alerts_run().sent


@pytest.mark.django_db
def test_the_job_follows_one_employer_across_month_and_year_boundaries(fatima, employer, mailoutbox):
    employ(fatima.insured, employer, Period(2026, 1), Period(2026, 10))

    assert run_on("2026-11-20") == []  # 202610 declared
    assert run_on("2026-12-05") == []  # 202611 not yet due
    assert run_on("2026-12-10") == []  # due today: not missed yet
    [first] = run_on("2026-12-11")
    assert (first.employer, first.period) == (employer, "202611")
    assert run_on("2026-12-11") == []  # re-run the same day
    assert run_on("2026-12-31") == []
    assert run_on("2027-01-10") == []  # still 202611: already told
    [second] = run_on("2027-01-11")
    assert second.period == "202612"
    declare(employer, fatima.insured, [Period(2026, 11), Period(2026, 12), Period(2027, 1)])
    assert run_on("2027-02-11") == []  # caught up
    assert run_on("2027-03-11") != []  # 202702 missed: a new period, a new alert

    assert sorted(ArrearsAlert.objects.values_list("period", flat=True)) == ["202611", "202612", "202702"]
    assert len(mailoutbox) == 3
    assert OutboundEmail.objects.filter(template="arrears_alert", status=OutboundEmail.Status.SENT).count() == 3
    assert AuditEntry.objects.filter(action="alerts.arrears.sent").count() == 3


@pytest.mark.django_db
def test_the_alert_is_in_the_workers_language_and_links_to_the_formal_notice(fatima, employer, mailoutbox, settings):
    employ(fatima.insured, employer, Period(2026, 1), Period(2026, 10))
    run_on("2026-12-11")
    [message] = mailoutbox
    assert message.to == ["worker@example.ma"]
    notice = reverse("casework:employer_case", kwargs={"kind": "employer_notice", "employer_id": employer.pk})
    assert f"{settings.SITE_URL}{notice}" in message.body
    assert f"{settings.SITE_URL}{reverse('alerts:settings')}" in message.body
    assert "ATLAS TEXTILES" in message.subject
    # Arabic: the month in words, no CIN or CNSS number.
    assert "نونبر" in message.body  # Moroccan month names (damane/formats)
    assert "2026" in message.body
    assert fatima.insured.cnss_number not in message.body and fatima.insured.cin not in message.body


@pytest.mark.django_db
def test_only_opted_in_accounts_with_an_active_employment_are_alerted(django_user_model, employer, mailoutbox):
    opted_out = _account(django_user_model, "100000011", "AB1", opted_in=False, email="a@example.ma")
    changed_mind = _account(django_user_model, "100000022", "AB2", email="b@example.ma")
    services.alert_preference_set(user=changed_mind, enabled=False)
    left = _account(django_user_model, "100000033", "AB3", email="c@example.ma")
    disabled = _account(django_user_model, "100000044", "AB4", email="d@example.ma")
    disabled.is_active = False
    disabled.save()
    alerted = _account(django_user_model, "100000055", "AB5", email="e@example.ma")
    employ(alerted.insured, employer, Period(2026, 1), Period(2026, 10))
    for user in (opted_out, changed_mind, disabled):
        hire(user.insured, employer, Period(2026, 1))
    ended = hire(left.insured, employer, Period(2026, 1))
    ended.end_date = date(2026, 10, 31)
    ended.save()

    sent = run_on("2026-12-11")
    assert [alert.user for alert in sent] == [alerted]
    assert [m.to for m in mailoutbox] == [["e@example.ma"]]
    assert AuditEntry.objects.filter(action="alerts.arrears.opted_out", actor=changed_mind).exists()


@pytest.mark.django_db
def test_a_second_employer_up_to_date_is_not_alerted_and_each_late_employer_is_once(fatima, employer, mailoutbox):
    good = make_employer("4567890", "SOUSS AGRUMES")
    employ(fatima.insured, employer, Period(2026, 1), Period(2026, 10))
    employ(fatima.insured, good, Period(2026, 1), Period(2026, 11))
    assert [a.employer for a in run_on("2026-12-11")] == [employer]


@pytest.mark.django_db
def test_the_unique_constraint_refuses_a_second_alert_for_the_same_employer_and_period(fatima, employer):
    ArrearsAlert.objects.create(user=fatima, employer=employer, period="202611")
    with pytest.raises(IntegrityError), transaction.atomic():
        ArrearsAlert.objects.create(user=fatima, employer=employer, period="202611")


@pytest.mark.django_db
def test_a_worker_killed_mid_alert_leaves_nothing_and_the_rerun_sends_it_once(
    fatima, employer, mailoutbox, monkeypatch
):
    employ(fatima.insured, employer, Period(2026, 1), Period(2026, 10))

    def killed(**kwargs):
        raise SystemExit("worker killed")

    with monkeypatch.context() as patched:
        patched.setattr("accounts.notifications.send_notice", killed)
        with pytest.raises(SystemExit):
            run_on("2026-12-11")
    assert not ArrearsAlert.objects.exists() and not OutboundEmail.objects.exists()
    assert len(run_on("2026-12-11")) == 1
    assert len(run_on("2026-12-11")) == 0
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_an_alert_already_written_by_a_concurrent_run_is_skipped(fatima, employer, mailoutbox):
    employ(fatima.insured, employer, Period(2026, 1), Period(2026, 10))
    with freeze_time("2026-12-11"):
        _period, [candidate] = services.arrears_alert_candidates(today=date(2026, 12, 11))
        # Another run wrote the row between this run's read and its write.
        ArrearsAlert.objects.create(user=fatima, employer=employer, period="202611")
        assert services.arrears_alert_send(candidate) is None
    assert ArrearsAlert.objects.count() == 1 and mailoutbox == []


@pytest.mark.django_db
def test_the_beat_task_and_the_dry_run_command(fatima, employer, mailoutbox, settings):
    from io import StringIO

    from django.core.management import call_command

    employ(fatima.insured, employer, Period(2026, 1), Period(2026, 10))
    assert settings.CELERY_BEAT_SCHEDULE["alerts.arrears-alerts"]["task"] == tasks.send_arrears_alerts.name
    out = StringIO()
    call_command("arrears_alerts", "--dry-run", "--date", "2026-12-11", stdout=out)
    assert "period 202611: 1 alert(s) due" in out.getvalue()
    assert not ArrearsAlert.objects.exists()
    with freeze_time("2026-12-11"):
        assert tasks.send_arrears_alerts.apply().get() == 1
        assert tasks.send_arrears_alerts.apply().get() == 0
    assert len(mailoutbox) == 1


# --- The settings page ------------------------------------------------------------


@pytest.mark.django_db
def test_the_insured_opts_in_and_out_from_the_settings_page(client, django_user_model):
    user = _account(django_user_model, "100234561", "BE123456", opted_in=False)
    client.force_login(user)
    page = client.get(reverse("alerts:settings"))
    assert (
        page.status_code == 200 and "E-mail me when an employer of mine misses a declaration" in page.content.decode()
    )
    assert "Arrears alerts:" in client.get(reverse("accounts:dashboard")).content.decode()
    response = client.post(reverse("alerts:settings"), {"arrears_alerts": "on"})
    assert response.status_code == 302
    assert AlertPreference.objects.get(user=user).arrears_alerts
    assert AuditEntry.objects.filter(action="alerts.arrears.opted_in", actor=user).count() == 1
    client.post(reverse("alerts:settings"), {})
    assert not AlertPreference.objects.get(user=user).arrears_alerts
    assert AuditEntry.objects.filter(action="alerts.arrears.opted_out", actor=user).count() == 1


@pytest.mark.django_db
def test_the_settings_page_is_for_insured_accounts_only(client, django_user_model):
    assert client.get(reverse("alerts:settings")).status_code == 302  # to the login page
    staff = django_user_model.objects.create_user(username="agent", password="x" * 20, is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("alerts:settings")).status_code == 404
    assert client.post(reverse("alerts:settings"), {"arrears_alerts": "on"}).status_code == 404
    assert not AlertPreference.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_runs_send_one_alert(fatima, employer, mailoutbox):
    from django.db import connection

    from tests.threads import run_in_threads

    assert connection.vendor == "postgresql"
    employ(fatima.insured, employer, Period(2026, 1), Period(2026, 10))
    results = run_in_threads(8, lambda: services.arrears_alerts_run(today=date(2026, 12, 11)))
    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(len(r.sent) for r in results) == 1
    assert ArrearsAlert.objects.count() == 1
    assert OutboundEmail.objects.filter(template="arrears_alert").count() == 1
    assert AuditEntry.objects.filter(action="alerts.arrears.sent").count() == 1
    assert len(mailoutbox) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_scheduled_task_twice_and_sends_one_alert(fatima, employer, tmp_path, settings):
    import re

    from django.utils import timezone

    from tests.workers import celery_worker, wait_for

    period = rules.overdue_period(today=timezone.localdate(), due_day=settings.DAMANE_DECLARATION_DUE_DAY)
    employ(fatima.insured, employer, period - 12, period - 1)
    done = re.compile(r"alerts\.tasks\.send_arrears_alerts\[[^\]]+\] succeeded in [\d.]+s: (\d+)")
    with celery_worker(tmp_path) as worker:
        tasks.send_arrears_alerts.delay()
        wait_for(lambda: done.findall(worker.output()) == ["1"], timeout=60)
        tasks.send_arrears_alerts.delay()
        wait_for(lambda: len(done.findall(worker.output())) == 2, timeout=60)
        wait_for(lambda: OutboundEmail.objects.filter(status=OutboundEmail.Status.SENT).exists(), timeout=30)
        log = worker.output()
    assert done.findall(log) == ["1", "0"]
    assert ArrearsAlert.objects.get().period == str(period)
    [mail] = (tmp_path / "mail").glob("*.log")
    assert "To: worker@example.ma" in mail.read_text()
    assert fatima.insured.cnss_number not in log and "worker@example.ma" not in log
