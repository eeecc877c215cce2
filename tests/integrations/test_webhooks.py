"""Webhooks (issue 26 item 1): events an organisation's endpoints receive, signed, through the outbox.

The receiver is a local server on 127.0.0.1: each test that uses it allows
plain http and private addresses explicitly (``local_hooks``); the SSRF tests
show that without those test settings such addresses are refused.
"""

import json
import re
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import OutboundEmail
from audit.models import AuditEntry
from certificates.services import certificate_revoke
from damane.background import requeue_due
from integrations import services
from integrations.webhooks import events, openapi, signing, transport
from integrations.webhooks import services as webhooks
from integrations.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.integrations.conftest import bearer, current_employer
from tests.integrations.receiver import Receiver, make_test_ca, start

pytestmark = pytest.mark.django_db

ALL_EVENTS = [
    "certificate.revoked",
    "share_code.revoked",
    "share_code.expired",
    "api_key.expiring",
    "quota.threshold",
]


@pytest.fixture
def local_hooks(settings):
    """The test settings that let deliveries reach the local receiver: never set outside tests."""
    settings.DAMANE_WEBHOOK_ALLOW_HTTP = True
    settings.DAMANE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    return settings


@pytest.fixture
def receiver():
    found = Receiver()
    server = start(found)
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture
def endpoint(local_hooks, receiver, bank, supervisor):
    """(endpoint, its secret) of the bank, for every event."""
    return webhooks.endpoint_register(organisation=bank, url=receiver.url, events=ALL_EVENTS, actor=supervisor)


def signed_by(secret: str, request) -> bool:
    return signing.verify(secret, request.body, request.headers["Damane-Signature"])


def conforms(request) -> bool:
    """The body follows the schema the OpenAPI document gives its event (``webhooks``)."""
    import jsonschema

    event = json.loads(request.body)
    jsonschema.validate(event, openapi.event_schema(event["type"]))
    return True


def test_the_openapi_document_describes_every_event_and_stays_valid(client):
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").json()
    validate(document)
    assert set(document["webhooks"]) == set(ALL_EVENTS)
    post = document["webhooks"]["certificate.revoked"]["post"]
    assert any(p["name"] == "Damane-Signature" for p in post["parameters"])


def test_a_certificate_the_bank_checked_is_revoked_and_its_endpoint_gets_one_signed_event(
    client, endpoint, receiver, key, certificate, supervisor
):
    _hook, secret = endpoint
    _api_key, plaintext = key
    assert client.get(f"/api/v1/verify?code={certificate.verification_code}", **bearer(plaintext)).json()["genuine"]
    assert receiver.received == []

    certificate_revoke(certificate=certificate, actor=supervisor, reason="issued on a wrong employment")

    assert len(receiver.received) == 1
    request = receiver.received[0]
    assert request.path == "/hooks" and request.headers["Content-Type"] == "application/json"
    assert request.headers["Damane-Event"] == "certificate.revoked"
    assert signed_by(secret, request) and conforms(request)
    assert not signed_by("whsec_another", request)
    event = json.loads(request.body)
    assert event["type"] == "certificate.revoked"
    assert event["data"]["certificate"]["number"] == certificate.number
    # Nothing personal: neither the reason nor the holder.
    assert "wrong employment" not in request.body.decode() and "BENNANI" not in request.body.decode()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 1, 200)
    assert str(delivery.event_id) == event["id"]


def test_an_organisation_that_never_checked_the_certificate_gets_nothing(
    local_hooks, receiver, supervisor, certificate
):
    other = services.organisation_register(
        name="AMBASSADE", kind="embassy", contact_email="visa@amb.example", actor=supervisor
    )
    webhooks.endpoint_register(organisation=other, url=receiver.url, events=ALL_EVENTS, actor=supervisor)
    certificate_revoke(certificate=certificate, actor=supervisor, reason="wrong")
    assert receiver.received == [] and not WebhookDelivery.objects.exists()


def test_an_endpoint_gets_only_the_events_it_chose(local_hooks, receiver, bank, supervisor, key, certificate, client):
    webhooks.endpoint_register(organisation=bank, url=receiver.url, events=["api_key.expiring"], actor=supervisor)
    client.get(f"/api/v1/verify?code={certificate.verification_code}", **bearer(key[1]))
    certificate_revoke(certificate=certificate, actor=supervisor, reason="wrong")
    assert receiver.received == []


def test_a_share_code_the_bank_used_is_revoked_then_another_expires(
    client, endpoint, receiver, key, amina, as_amina, supervisor
):
    share, code = services.share_code_create(
        insured=amina,
        employer=current_employer(amina),
        recipient="BANQUE EXEMPLE",
        valid_days=3,
        show_employment=True,
        show_employer_status=False,
        show_last_period=False,
        actor=None,
    )
    assert client.post("/api/v1/share", {"code": code}, content_type="application/json", **bearer(key[1])).json()[
        "valid"
    ]
    as_amina.post(f"/me/sharing/{share.pk}/revoke/")
    assert [json.loads(r.body)["type"] for r in receiver.received] == ["share_code.revoked"]
    data = json.loads(receiver.received[0].body)["data"]["share_code"]
    assert data["last_symbols"] == code[-4:] and data["recipient"] == "BANQUE EXEMPLE"

    second, code2 = services.share_code_create(
        insured=amina,
        employer=current_employer(amina),
        recipient="BANQUE EXEMPLE",
        valid_days=1,
        show_employment=True,
        show_employer_status=False,
        show_last_period=False,
        actor=None,
    )
    client.post("/api/v1/share", {"code": code2}, content_type="application/json", **bearer(key[1]))
    later = second.expires_at + timedelta(minutes=1)
    events.watch(now=later)
    events.watch(now=later + timedelta(hours=1))  # the hourly job again: the event is recorded once
    assert all(conforms(r) for r in receiver.received)
    shares = [json.loads(r.body)["type"] for r in receiver.received if "share_code" in json.loads(r.body)["type"]]
    assert shares == ["share_code.revoked", "share_code.expired"]


def test_a_key_about_to_expire_is_announced_at_30_7_and_1_days_each_once(endpoint, receiver, key):
    api_key, _plaintext = key  # valid 30 days
    now = timezone.now()
    for days_left, expected in ((29.5, 30), (20, None), (6.5, 7), (0.5, 1), (0.4, None)):
        before = len(receiver.received)
        events.watch(now=api_key.expires_at - timedelta(days=days_left))
        if expected is None:
            assert len(receiver.received) == before
        else:
            event = json.loads(receiver.received[-1].body)
            assert event["type"] == "api_key.expiring" and event["data"]["days"] == expected
            assert event["data"]["api_key"]["prefix"] == api_key.prefix and conforms(receiver.received[-1])
    assert len(receiver.received) == 3 and now


def test_a_key_reaching_80_percent_of_its_daily_quota_is_announced_once(
    client, endpoint, receiver, bank, supervisor, certificate
):
    _key, plaintext = services.api_key_issue(
        organisation=bank, label="small", valid_days=90, quota_per_minute=100, quota_per_day=5, actor=supervisor
    )
    for _ in range(5):
        client.get(f"/api/v1/verify?code={certificate.verification_code}", **bearer(plaintext))
    types = [json.loads(r.body)["type"] for r in receiver.received]
    assert types == ["quota.threshold"]
    data = json.loads(receiver.received[0].body)["data"]
    assert (data["used"], data["limit"], data["percent"]) == (4, 5, 80) and conforms(receiver.received[0])


def test_a_refused_delivery_is_retried_with_growing_delays_by_the_sweep_then_delivered(
    endpoint, receiver, supervisor, settings
):
    hook, secret = endpoint
    receiver.answers = [500, 503]
    webhooks.event_record(organisation_id=hook.organisation_id, event_type="api_key.expiring", dedupe_key="x", data={})
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("queued", 1, 500)
    first_wait = delivery.next_attempt_at - delivery.claimed_at
    assert timedelta(seconds=29) <= first_wait <= timedelta(seconds=61)
    hook.refresh_from_db()
    assert hook.failing_since is not None

    assert requeue_due(timezone.now())["integrations.webhooks"] == 0  # not due yet
    requeue_due(delivery.next_attempt_at + timedelta(seconds=1))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("queued", 2, 503)
    assert timedelta(seconds=59) <= delivery.next_attempt_at - delivery.claimed_at <= timedelta(seconds=121)

    requeue_due(delivery.next_attempt_at + timedelta(seconds=1))
    delivery.refresh_from_db()
    hook.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 3)
    assert hook.failing_since is None
    # Each attempt signed afresh, the same event each time.
    assert len({json.loads(r.body)["id"] for r in receiver.received}) == 1
    assert all(signed_by(secret, r) for r in receiver.received)


def test_a_delivery_gives_up_after_the_last_attempt(endpoint, receiver, settings):
    settings.DAMANE_WEBHOOK_MAX_ATTEMPTS = 2
    receiver.answers = [500, 500, 500]
    hook, _secret = endpoint
    webhooks.event_record(organisation_id=hook.organisation_id, event_type="api_key.expiring", dedupe_key="x", data={})
    delivery = WebhookDelivery.objects.get()
    requeue_due(delivery.next_attempt_at + timedelta(seconds=1))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 2, None)
    assert requeue_due(timezone.now() + timedelta(days=1))["integrations.webhooks"] == 0


def test_an_endpoint_failing_for_three_days_is_disabled_and_its_contact_told(endpoint, receiver, bank):
    hook, _secret = endpoint
    receiver.answers = [500]
    WebhookEndpoint.objects.filter(pk=hook.pk).update(failing_since=timezone.now() - timedelta(hours=72, minutes=1))
    webhooks.event_record(organisation_id=bank.pk, event_type="api_key.expiring", dedupe_key="x", data={})
    hook.refresh_from_db()
    delivery = WebhookDelivery.objects.get()
    assert not hook.is_active and hook.disabled_at is not None
    assert delivery.status == "failed"
    notice = OutboundEmail.objects.get(template="webhook_disabled")
    assert notice.to == "api@banque.example" and notice.status == "sent"
    assert hook.url in mail.outbox[-1].body
    assert AuditEntry.objects.filter(action="integrations.webhook.disabled", object_id=str(hook.pk)).exists()
    # Nothing more is sent to it.
    webhooks.event_record(organisation_id=bank.pk, event_type="api_key.expiring", dedupe_key="y", data={})
    assert len(receiver.received) == 1


def test_the_watch_disables_an_endpoint_that_failed_three_days_ago_even_without_new_events(endpoint, bank):
    hook, _secret = endpoint
    WebhookEndpoint.objects.filter(pk=hook.pk).update(failing_since=timezone.now() - timedelta(hours=73))
    assert events.watch()["disabled"] == 1
    hook.refresh_from_db()
    assert not hook.is_active
    assert OutboundEmail.objects.filter(template="webhook_disabled", to=bank.contact_email).count() == 1


def test_a_supervisor_replays_a_delivery_with_the_same_event_id_and_it_is_audited(
    endpoint, receiver, as_supervisor, supervisor, bank, settings
):
    _hook, secret = endpoint
    settings.DAMANE_WEBHOOK_MAX_ATTEMPTS = 1
    receiver.answers = [500]
    webhooks.event_record(organisation_id=bank.pk, event_type="api_key.expiring", dedupe_key="x", data={"n": 1})
    first = WebhookDelivery.objects.get()
    page = as_supervisor.get(f"/staff/integrators/{bank.pk}/").content.decode()
    assert "api_key.expiring" in page and "Send again" in page and secret not in page

    response = as_supervisor.post(f"/staff/integrators/webhooks/deliveries/{first.pk}/replay/")
    assert response.status_code == 302
    replay = WebhookDelivery.objects.exclude(pk=first.pk).get()
    assert replay.replay_of == first and replay.status == "delivered"
    assert (
        json.loads(receiver.received[-1].body)["id"]
        == str(first.event_id)
        == json.loads(receiver.received[0].body)["id"]
    )
    assert AuditEntry.objects.filter(action="integrations.webhook.replayed", actor=supervisor).count() == 1


def test_a_supervisor_registers_an_endpoint_and_sees_its_secret_once(local_hooks, as_supervisor, bank, as_agent):
    response = as_supervisor.post(
        f"/staff/integrators/{bank.pk}/webhooks/",
        {"url": "https://hooks.banque.example/damane", "events": ["certificate.revoked", "quota.threshold"]},
    )
    assert response.status_code == 200
    hook = WebhookEndpoint.objects.get()
    assert hook.secret in response.content.decode() and hook.secret.startswith("whsec_")
    assert hook.events == ["certificate.revoked", "quota.threshold"]
    assert AuditEntry.objects.filter(action="integrations.webhook.registered").count() == 1
    assert hook.secret not in as_supervisor.get(f"/staff/integrators/{bank.pk}/").content.decode()
    # Agents see, do not write.
    assert as_agent.post(f"/staff/integrators/{bank.pk}/webhooks/", {"url": "https://x.example/"}).status_code == 403


# --- SSRF: outbound requests only to the registered host, never to private addresses ----------


def test_an_http_address_is_refused_unless_the_test_setting_allows_it(as_supervisor, bank):
    as_supervisor.post(
        f"/staff/integrators/{bank.pk}/webhooks/", {"url": "http://hooks.banque.example/", "events": ALL_EVENTS}
    )
    assert not WebhookEndpoint.objects.exists()
    with pytest.raises(transport.Refused):
        transport.check_url("http://hooks.banque.example/")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.5",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104  (an address refused, not bound)
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "224.0.0.1",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused_before_anything_is_sent(settings, monkeypatch, address):
    settings.DAMANE_WEBHOOK_ALLOW_HTTP = True
    connections = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connections.append(a))
    for url in (f"https://[{address}]/" if ":" in address else f"https://{address}/",):
        with pytest.raises(transport.Refused):
            transport.post(url, b"{}", {})
    assert connections == []


def test_a_name_with_one_private_address_among_public_ones_is_refused(settings, monkeypatch):
    def getaddrinfo(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(transport.Refused, match=r"10\.0\.0\.7"):
        transport.post("https://hooks.banque.example/", b"{}", {})


def test_the_local_receiver_is_refused_without_the_private_address_test_setting(settings, receiver, bank, supervisor):
    settings.DAMANE_WEBHOOK_ALLOW_HTTP = True
    # Its address typed as such is refused at once; its name is refused once resolved, before anything is sent.
    with pytest.raises(webhooks.WebhookError):
        webhooks.endpoint_register(organisation=bank, url=receiver.url, events=ALL_EVENTS, actor=supervisor)
    webhooks.endpoint_register(
        organisation=bank, url=f"http://localhost:{receiver.port}/hooks", events=ALL_EVENTS, actor=supervisor
    )
    webhooks.event_record(organisation_id=bank.pk, event_type="api_key.expiring", dedupe_key="x", data={})
    delivery = WebhookDelivery.objects.get()
    assert receiver.received == []
    assert delivery.status == "queued" and "private or reserved address" in delivery.error


def test_the_resolved_address_is_pinned_and_the_host_name_kept(local_hooks, receiver, monkeypatch):
    """The name is resolved once; the connection goes to that address, with the name in Host (and in TLS)."""
    real = socket.getaddrinfo
    lookups = []

    def getaddrinfo(host, port, *args, **kwargs):
        lookups.append(host)
        if host == "hooks.banque.example":
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    answer = transport.post(f"http://hooks.banque.example:{receiver.port}/hooks", b"{}", {})
    assert answer.status == 200
    # Resolved once (the connection is made to the address: resolving an address is no DNS query).
    assert lookups.count("hooks.banque.example") == 1 and set(lookups) <= {"hooks.banque.example", "127.0.0.1"}
    assert receiver.received[0].headers["Host"] == f"hooks.banque.example:{receiver.port}"


def test_a_redirect_is_not_followed_and_counts_as_a_failure(endpoint, bank):
    other = Receiver()
    server = start(other)
    try:
        hook, _secret = endpoint
        first = Receiver(answers=[302], redirect_to=other.url)
        first_server = start(first)
        WebhookEndpoint.objects.filter(pk=hook.pk).update(url=first.url)
        webhooks.event_record(organisation_id=bank.pk, event_type="api_key.expiring", dedupe_key="x", data={})
        delivery = WebhookDelivery.objects.get()
        assert len(first.received) == 1 and other.received == []
        assert (delivery.status, delivery.response_status, delivery.error) == ("queued", 302, "answered 302")
        first_server.shutdown()
        first_server.server_close()
    finally:
        server.shutdown()
        server.server_close()


def test_an_https_receiver_is_reached_with_its_certificate_checked_against_the_host_name(
    settings, tmp_path: Path, bank, supervisor
):
    settings.DAMANE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    ca, cert, key = make_test_ca(tmp_path, "localhost")
    settings.DAMANE_WEBHOOK_CA_FILE = str(ca)
    tls = Receiver()
    server = start(tls, tls=(cert, key))
    try:
        hook, secret = webhooks.endpoint_register(
            organisation=bank, url=f"https://localhost:{tls.port}/hooks", events=ALL_EVENTS, actor=supervisor
        )
        webhooks.event_record(organisation_id=bank.pk, event_type="api_key.expiring", dedupe_key="x", data={})
        assert WebhookDelivery.objects.get().status == "delivered"
        assert signed_by(secret, tls.received[0])
        # The same server under another name (its certificate does not name it): refused by TLS.
        WebhookEndpoint.objects.filter(pk=hook.pk).update(url=f"https://127.0.0.1:{tls.port}/hooks")
        webhooks.event_record(organisation_id=bank.pk, event_type="api_key.expiring", dedupe_key="y", data={})
        refused = WebhookDelivery.objects.get(dedupe_key="y")
        assert refused.status == "queued" and "SSL" in refused.error and len(tls.received) == 1
    finally:
        server.shutdown()
        server.server_close()


def test_the_python_client_in_the_docs_verifies_a_real_delivery(endpoint, receiver, bank):
    """docs/integrators.md's receiver code, run on what the receiver got."""
    _hook, secret = endpoint
    webhooks.event_record(organisation_id=bank.pk, event_type="api_key.expiring", dedupe_key="x", data={"days": 7})
    request = receiver.received[0]
    text = (Path(__file__).resolve().parents[2] / "docs" / "integrators.md").read_text()
    code = re.search(r"<!-- webhook-client -->\s*```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "docs/integrators.md", "exec"), namespace)  # noqa: S102  (the repository's own docs)
    verify = namespace["verify_damane_webhook"]
    event = verify(secret, request.body, request.headers["Damane-Signature"])
    assert event["id"] == json.loads(request.body)["id"] and event["data"] == {"days": 7}
    with pytest.raises(ValueError):
        verify(secret, request.body + b" ", request.headers["Damane-Signature"])
    with pytest.raises(ValueError):
        verify("whsec_wrong", request.body, request.headers["Damane-Signature"])
    stale = signing.header(secret, request.body, timestamp=int(timezone.now().timestamp()) - 301)
    with pytest.raises(ValueError):
        verify(secret, request.body, stale)
