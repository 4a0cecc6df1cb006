"""Webhook endpoints: verify on the raw body, store once by evt_ id, answer with a clear status."""

import threading
import time

import pytest
from celery.signals import before_task_publish
from sqlalchemy import func, select

from app.billing.models.events import EventStatus, StripeEvent
from app.extensions import db
from tenants.context import tenant_context, unscoped
from tenants.models import StripeConnectionStatus, Tenant
from tests.conftest import CONNECT_WEBHOOK_SECRET
from tests.support.signing import encode, make_event, signature_header

CONNECT = "/webhooks/stripe/connect"


def post(client, path, body: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return client.post(path, data=body, headers=headers)


def stored_events() -> list[StripeEvent]:
    with unscoped():
        return db.session.scalars(select(StripeEvent).order_by(StripeEvent.id)).all()


@pytest.fixture
def platform(client_for):
    return client_for(None)


@pytest.fixture
def connected(db_session, make_tenant):
    return make_tenant("acme", stripe_account="acct_acme1")


def test_valid_connect_event_is_stored_and_processed(platform, connected):
    body = encode(make_event(account="acct_acme1"))
    response = post(platform, CONNECT, body, signature_header(body, CONNECT_WEBHOOK_SECRET))
    assert response.status_code == 200
    assert response.json["duplicate"] is False
    [event] = stored_events()
    assert event.tenant_id == connected.id
    assert event.account == "acct_acme1"
    # Eager in this test: processed at once; a balance event touches no cached object.
    assert event.status == EventStatus.PROCESSED
    assert event.note == "ignored: no cached object"


def test_duplicate_delivery_is_a_no_op(platform, connected, tasks_via_redis):
    body = encode(make_event(account="acct_acme1"))
    sent = []

    def record(sender=None, **_):
        sent.append(sender)

    # Through Redis for once, so the event stays pending while its duplicates arrive. (This
    # test's transaction is never committed: a worker that picks the task up finds nothing.)
    before_task_publish.connect(record)
    try:
        for _ in range(3):
            response = post(platform, CONNECT, body, signature_header(body, CONNECT_WEBHOOK_SECRET))
            assert response.status_code == 200
    finally:
        before_task_publish.disconnect(record)
    assert response.json == {"received": True, "duplicate": True, "status": "pending"}
    assert len(stored_events()) == 1
    assert sent == ["app.billing.tasks.drain_tenant_events"]  # queued once, not per delivery


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (None, "missing Stripe-Signature"),
        ("t=1,v1=deadbeef", "signature check failed"),
        ("garbage", "signature check failed"),
    ],
)
def test_bad_or_missing_signature_is_400_and_nothing_stored(platform, connected, signature, reason):
    body = encode(make_event(account="acct_acme1"))
    response = post(platform, CONNECT, body, signature)
    assert response.status_code == 400
    assert reason in response.json["error"]
    assert stored_events() == []


def test_tampered_body_fails_the_signature(platform, connected):
    body = encode(make_event(account="acct_acme1"))
    signature = signature_header(body, CONNECT_WEBHOOK_SECRET)
    tampered = body.replace(b"acct_acme1", b"acct_evil1")
    assert post(platform, CONNECT, tampered, signature).status_code == 400
    assert stored_events() == []


def test_stale_timestamp_is_rejected(platform, connected):
    body = encode(make_event(account="acct_acme1"))
    old = signature_header(body, CONNECT_WEBHOOK_SECRET, timestamp=int(time.time()) - 301)
    response = post(platform, CONNECT, body, old)
    assert response.status_code == 400
    assert stored_events() == []


def test_unknown_account_is_400_and_not_stored(platform, connected):
    body = encode(make_event(account="acct_nobody"))
    response = post(platform, CONNECT, body, signature_header(body, CONNECT_WEBHOOK_SECRET))
    assert response.status_code == 400
    assert response.json["error"] == "unknown account"
    assert stored_events() == []


@pytest.mark.parametrize(
    "body", [b"{not json", b'{"id": "evt_1"}', b'["evt_1"]', b'{"id": "ch_1", "type": "x"}']
)
def test_malformed_but_signed_bodies_are_400(platform, connected, body):
    response = post(platform, CONNECT, body, signature_header(body, CONNECT_WEBHOOK_SECRET))
    assert response.status_code == 400
    assert stored_events() == []


def test_wrong_mode_is_stored_and_ignored(platform, connected):
    body = encode(make_event(account="acct_acme1", livemode=True))
    response = post(platform, CONNECT, body, signature_header(body, CONNECT_WEBHOOK_SECRET))
    assert response.status_code == 200  # Stripe must stop retrying: it will never be valid here
    [event] = stored_events()
    assert event.status == EventStatus.IGNORED
    assert "wrong mode" in event.note


def test_live_events_of_a_live_key_tenant_are_processed(platform, db_session, make_tenant):
    tenant = make_tenant("livekey")
    tenant.connect_api_key("rk_live_tenant", "whsec_live_tenant")
    db.session.commit()
    path = f"/webhooks/stripe/{tenant.webhook_endpoint_id}"
    for livemode in (True, False):
        body = encode(make_event(livemode=livemode))
        assert (
            post(platform, path, body, signature_header(body, "whsec_live_tenant")).status_code
            == 200
        )
    live, test = stored_events()
    assert live.status == EventStatus.PROCESSED
    assert test.status == EventStatus.IGNORED and "wrong mode" in test.note


def test_a_live_key_tenant_recorded_as_test_still_takes_live_events(
    platform, db_session, make_tenant
):
    """Connected before modes were derived from keys: its stored flag says test; its key wins."""
    tenant = make_tenant("oldlive")
    tenant.connect_api_key("rk_live_old", "whsec_old")
    tenant.stripe_livemode = False  # as such tenants were stored
    db.session.commit()
    body = encode(make_event(livemode=True))
    path = f"/webhooks/stripe/{tenant.webhook_endpoint_id}"
    assert post(platform, path, body, signature_header(body, "whsec_old")).status_code == 200
    [event] = stored_events()
    assert event.status != EventStatus.IGNORED


def test_connect_tenants_follow_the_platform_going_live(platform, connected, app, monkeypatch):
    """Connected while the platform ran on test keys; the platform then goes live."""
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_live_platform")
    for livemode in (True, False):
        body = encode(make_event(account="acct_acme1", livemode=livemode))
        response = post(platform, CONNECT, body, signature_header(body, CONNECT_WEBHOOK_SECRET))
        assert response.status_code == 200
    live, test = stored_events()
    assert live.status != EventStatus.IGNORED
    assert test.status == EventStatus.IGNORED and "wrong mode" in test.note


def test_deauthorization_disconnects_the_tenant(platform, connected):
    event = make_event(
        "account.application.deauthorized",
        {"object": "application", "id": "ca_123"},
        account="acct_acme1",
    )
    body = encode(event)
    assert (
        post(platform, CONNECT, body, signature_header(body, CONNECT_WEBHOOK_SECRET)).status_code
        == 200
    )
    db.session.expire_all()
    assert db.session.get(Tenant, connected.id).stripe_status == StripeConnectionStatus.DISCONNECTED


def test_api_key_tenant_endpoint_uses_its_own_secret(platform, db_session, make_tenant):
    a = make_tenant("keya")
    a.connect_api_key("rk_test_a", "whsec_tenant_a")
    b = make_tenant("keyb")
    b.connect_api_key("rk_test_b", "whsec_tenant_b")
    db.session.commit()
    body = encode(make_event())
    ok = post(
        platform,
        f"/webhooks/stripe/{a.webhook_endpoint_id}",
        body,
        signature_header(body, "whsec_tenant_a"),
    )
    assert ok.status_code == 200
    # Signed for tenant A, sent to tenant B's endpoint: refused, nothing stored for B.
    other = encode(make_event())
    wrong = post(
        platform,
        f"/webhooks/stripe/{b.webhook_endpoint_id}",
        other,
        signature_header(other, "whsec_tenant_a"),
    )
    assert wrong.status_code == 400
    assert [e.tenant_id for e in stored_events()] == [a.id]
    unknown = post(
        platform, "/webhooks/stripe/whep_nope", body, signature_header(body, "whsec_tenant_a")
    )
    assert unknown.status_code == 404


def test_webhooks_are_not_served_on_tenant_hosts(client_for, connected):
    body = encode(make_event(account="acct_acme1"))
    response = post(
        client_for("acme"), CONNECT, body, signature_header(body, CONNECT_WEBHOOK_SECRET)
    )
    assert response.status_code == 404


def test_oversized_body_is_413(platform, connected):
    body = b'{"pad": "' + b"x" * (600 * 1024) + b'"}'
    response = post(platform, CONNECT, body, signature_header(body, CONNECT_WEBHOOK_SECRET))
    assert response.status_code == 413


def test_no_csrf_token_needed(platform, connected, app):
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    body = encode(make_event(account="acct_acme1"))
    assert (
        post(platform, CONNECT, body, signature_header(body, CONNECT_WEBHOOK_SECRET)).status_code
        == 200
    )


def test_concurrent_duplicate_deliveries_store_one_row(app, committed, make_tenant):
    tenant = make_tenant("race", stripe_account="acct_race1")
    event = make_event(account="acct_race1")
    body = encode(event)
    results = []
    barrier = threading.Barrier(8)

    def deliver():
        client = app.test_client()
        barrier.wait()
        response = client.post(
            CONNECT,
            data=body,
            base_url="http://localhost",
            headers={"Stripe-Signature": signature_header(body, CONNECT_WEBHOOK_SECRET)},
        )
        results.append((response.status_code, response.json["duplicate"]))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in results] == [200] * 8
    assert sorted(dup for _, dup in results) == [False] + [True] * 7
    with tenant_context(tenant.id):
        assert db.session.scalar(select(func.count(StripeEvent.id))) == 1
