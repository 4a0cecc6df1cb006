"""Operator figures per tenant, derived from the stored events: received, processed, lag, failed."""

from datetime import UTC, datetime, timedelta

from app.billing.event_log import store_event
from app.billing.models.events import EventStatus, StripeEvent
from app.billing.reconcile import tenant_event_figures
from app.extensions import db
from tenants.context import tenant_context
from tests.support.signing import make_event


def test_figures_count_only_the_current_tenants_events(db_session, make_tenant):
    acme = make_tenant("acme", stripe_account="acct_figures_a")
    beta = make_tenant("beta", stripe_account="acct_figures_b")
    with tenant_context(acme.id):
        stored = [store_event(acme, make_event(account="acct_figures_a")) for _ in range(4)]
        rows = [db.session.get(StripeEvent, event.id) for event in stored]
        rows[0].status, rows[0].processed_at = EventStatus.PROCESSED, datetime.now(UTC)
        rows[1].status = EventStatus.FAILED
        rows[2].received_at = datetime.now(UTC) - timedelta(minutes=3)  # oldest pending
        db.session.commit()
        figures = tenant_event_figures()
    assert (figures["pending"], figures["failed"]) == (2, 1)
    assert 170 < figures["lag_seconds"] < 400
    assert figures["last_event_processed_at"] is not None
    with tenant_context(beta.id):
        empty = tenant_event_figures()
    assert (empty["pending"], empty["failed"], empty["lag_seconds"]) == (0, 0, 0.0)
    assert empty["last_event_received_at"] is None
