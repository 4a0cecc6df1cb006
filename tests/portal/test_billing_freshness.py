"""Stripe unreachable: every signed-in page says its billing details may be out of date, and since
when, as soon as any Stripe call of the tenant fails (worker or action), until one succeeds."""

import re
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from app.billing.event_log import store_event
from app.billing.fetch import plain_dict
from app.billing.models.events import EventStatus, StripeEvent
from app.billing.stripe_health import (
    StripeHealth,
    forget_stripe_health,
    note_stripe_answered,
    note_stripe_unreachable,
    stripe_health,
)
from app.billing.tasks import process_stripe_event, reconcile_tenant, replay_event
from app.extensions import db
from app.factory import create_app
from app.portal.formatting import moment, time_ago
from tenants.context import tenant_context
from tenants.models import Tenant
from tenants.stripe_client import stripe_request_count
from tests.portal.test_account import action
from tests.support.portal_client import sign_in
from tests.support.queries import count_queries

NOTICE = "Billing details may be out of date"
TENANT_WITHOUT_ROWS = 987_654  # the record alone, no tenant needed
SHOWN_AT = re.compile(r'last updated\s+<time datetime="([^"]+)">')


@pytest.fixture
def ada(portal, merchant, smtp_sink):
    sign_in(portal, smtp_sink, "ada@example.com")
    return portal


@contextmanager
def stripe_down(stripe_emulator, merchant):
    """Every API call of the merchant's account answers 503, as in an outage."""
    stripe_emulator.add_fault("outage", status=503, account=merchant.tenant.stripe_account_id)
    try:
        yield
    finally:
        stripe_emulator.remove_fault("outage")


def signed_in_pages(merchant) -> list[str]:
    return [
        "/account",
        "/invoices",
        f"/card?customer={merchant.ada_first.id}",
        f"/subscriptions/{merchant.subscription.id}/cancel",
    ]


def last_updated_shown(html: str) -> datetime:
    assert NOTICE in html
    found = SHOWN_AT.search(html)
    assert found, "the notice names no time"
    shown = datetime.fromisoformat(found.group(1))
    assert f"({moment(shown)})" in html  # the absolute time, next to the relative one
    return shown


def stored_event_about(merchant, object_id: str) -> int:
    """Store the latest Stripe event about an object, as the webhook endpoint would."""
    listed = [plain_dict(e) for e in merchant.stripe.v1.events.list(params={"limit": 100}).data]
    event = next(e for e in listed if e["data"]["object"].get("id") == object_id)  # newest first
    with tenant_context(merchant.tenant.id):
        stored = store_event(db.session.get(Tenant, merchant.tenant.id), event)
        db.session.commit()
        return stored.id


def event_status(merchant, event_id: int) -> str:
    db.session.expire_all()
    with tenant_context(merchant.tenant.id):
        return db.session.get(StripeEvent, event_id).status


def test_a_failed_event_refetch_shows_the_notice_on_every_page_before_any_action(
    ada, merchant, stripe_emulator
):
    assert NOTICE not in ada.get("/account").text
    before_failure = datetime.now(UTC)  # the fixture's backfill was Stripe's last answer
    merchant.stripe.v1.customers.update(merchant.ada_first.id, params={"name": "Ada King"})
    event_id = stored_event_about(merchant, merchant.ada_first.id)

    with stripe_down(stripe_emulator, merchant):
        process_stripe_event.delay(merchant.tenant.id, event_id)  # the worker's task, eagerly
    assert event_status(merchant, event_id) == EventStatus.FAILED

    for path in signed_in_pages(merchant):
        page = ada.get(path)
        assert page.status_code == 200, path
        assert last_updated_shown(page.text) < before_failure, path  # the last success
        assert "less than a minute ago" in page.text

    assert replay_event(merchant.tenant.id, event_id)  # Stripe answers again: the re-fetch succeeds
    db.session.commit()  # the replay is queued once the caller commits
    assert event_status(merchant, event_id) == EventStatus.PROCESSED
    page = ada.get("/account").text
    assert NOTICE not in page and "Ada King" in page


def test_a_failed_reconciliation_shows_the_notice_and_the_next_one_clears_it(
    ada, merchant, stripe_emulator
):
    reconcile_tenant.delay(merchant.tenant.id)
    reconciled = datetime.now(UTC)
    assert NOTICE not in ada.get("/account").text

    with stripe_down(stripe_emulator, merchant):
        reconcile_tenant.delay(merchant.tenant.id)
    assert last_updated_shown(ada.get("/account").text) < reconciled

    reconcile_tenant.delay(merchant.tenant.id)
    assert NOTICE not in ada.get("/account").text


def test_a_failed_action_shows_the_notice_at_no_cost_to_pages_and_a_successful_one_clears_it(
    ada, merchant, app
):
    ada.get("/account")
    with count_queries(app) as healthy:
        page = ada.get("/account")
    before_failure = datetime.now(UTC)
    original = app.config["STRIPE_API_BASE"]
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"  # nothing listens there
    try:
        confirm = ada.get(f"/subscriptions/{merchant.subscription.id}/cancel")
        failed = action(ada, f"/subscriptions/{merchant.subscription.id}/cancel", confirm.text)
        assert failed.status_code == 302
        calls = stripe_request_count()
        with count_queries(app) as failing:
            page = ada.get("/account")
        assert last_updated_shown(page.text) < before_failure
        assert "could not reach our payment processor" in page.text
        for path in signed_in_pages(merchant):
            assert NOTICE in ada.get(path).text, path
        assert stripe_request_count() == calls  # pages still ask Stripe nothing
        assert len(failing) == len(healthy)  # and the notice costs them no SQL query
    finally:
        app.config["STRIPE_API_BASE"] = original

    confirm = ada.get(f"/subscriptions/{merchant.subscription.id}/cancel")
    done = action(ada, f"/subscriptions/{merchant.subscription.id}/cancel", confirm.text)
    assert done.status_code == 302
    assert NOTICE not in ada.get("/account").text


def test_the_last_update_reads_as_people_say_it():
    now = datetime(2025, 3, 4, 14, 5, 30, tzinfo=UTC)
    assert time_ago(now - timedelta(seconds=20), now) == "less than a minute ago"
    assert time_ago(now - timedelta(minutes=1, seconds=5), now) == "1 minute ago"
    assert time_ago(now - timedelta(minutes=42), now) == "42 minutes ago"
    assert time_ago(now - timedelta(hours=3, minutes=59), now) == "3 hours ago"
    assert time_ago(now - timedelta(days=2, hours=1), now) == "2 days ago"
    assert moment(now) == "Mar 4, 2025 at 14:05 UTC"


def test_while_stripe_answers_its_time_is_written_at_most_once_a_minute(app, db_session):
    note_stripe_answered(TENANT_WITHOUT_ROWS)
    first = stripe_health(TENANT_WITHOUT_ROWS).answered_at
    note_stripe_answered(TENANT_WITHOUT_ROWS)  # seconds later: nothing new to write
    assert stripe_health(TENANT_WITHOUT_ROWS) == StripeHealth(first, None)

    note_stripe_unreachable(TENANT_WITHOUT_ROWS)
    failing_since = stripe_health(TENANT_WITHOUT_ROWS).failing_since
    note_stripe_unreachable(TENANT_WITHOUT_ROWS)  # still failing since the first failure
    assert stripe_health(TENANT_WITHOUT_ROWS) == StripeHealth(first, failing_since)
    note_stripe_answered(TENANT_WITHOUT_ROWS)  # a change of state is written at once
    assert not stripe_health(TENANT_WITHOUT_ROWS).failing
    assert stripe_health(TENANT_WITHOUT_ROWS).answered_at > first
    forget_stripe_health(TENANT_WITHOUT_ROWS)


def test_without_redis_the_demo_keeps_the_record_in_its_process(app):
    demo_like = create_app({"CELERY_EAGER": True, "REDIS_URL": None})
    try:
        with demo_like.app_context():
            note_stripe_answered(TENANT_WITHOUT_ROWS)
            note_stripe_unreachable(TENANT_WITHOUT_ROWS)
            health = stripe_health(TENANT_WITHOUT_ROWS)
            assert health.failing and health.answered_at <= health.failing_since
            note_stripe_answered(TENANT_WITHOUT_ROWS)
            assert not stripe_health(TENANT_WITHOUT_ROWS).failing
            forget_stripe_health(TENANT_WITHOUT_ROWS)
        with app.app_context():  # nothing of it in Redis
            assert stripe_health(TENANT_WITHOUT_ROWS) == StripeHealth(None, None)
    finally:
        app.extensions["celery"].set_current()
        app.extensions["celery"].set_default()
