"""Stored events do not grow forever: settled payloads go after Stripe's 30-day window, rows
after 400 days, in bounded batches, across every tenant; failed and pending events are kept
whole (they may be replayed)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from app.billing.event_log import store_event
from app.billing.event_retention import prune_events
from app.billing.models.events import EventStatus, StripeEvent
from app.billing.tasks import prune_stored_events
from app.extensions import db
from tenants.context import tenant_context, unscoped
from tests.support.signing import make_event


def stored(tenant, account: str, status: str, age_days: float) -> int:
    with tenant_context(tenant.id):
        event = store_event(tenant, make_event(account=account))
        row = db.session.get(StripeEvent, event.id)
        row.status = status
        row.received_at = datetime.now(UTC) - timedelta(days=age_days)
        db.session.commit()
        return row.id


def state(event_id: int):
    db.session.expire_all()
    with unscoped():
        row = db.session.get(StripeEvent, event_id)
        return None if row is None else (row.status, row.payload is not None)


def test_old_payloads_and_very_old_rows_go_and_nothing_replayable(db_session, make_tenant):
    acme = make_tenant("acme", stripe_account="acct_keep_a")
    beta = make_tenant("beta", stripe_account="acct_keep_b")
    recent = stored(acme, "acct_keep_a", EventStatus.PROCESSED, 29)
    old = stored(acme, "acct_keep_a", EventStatus.PROCESSED, 31)
    old_ignored = stored(beta, "acct_keep_b", EventStatus.IGNORED, 45)
    old_failed = stored(beta, "acct_keep_b", EventStatus.FAILED, 60)
    old_pending = stored(acme, "acct_keep_a", EventStatus.PENDING, 60)
    ancient = stored(beta, "acct_keep_b", EventStatus.PROCESSED, 401)
    ancient_failed = stored(acme, "acct_keep_a", EventStatus.FAILED, 500)

    result = prune_stored_events.delay().get()

    assert result == {"payloads": 2, "rows": 1}  # old and old_ignored; ancient goes whole
    assert state(recent) == (EventStatus.PROCESSED, True)
    assert state(old) == (EventStatus.PROCESSED, False)
    assert state(old_ignored) == (EventStatus.IGNORED, False)
    assert state(old_failed) == (EventStatus.FAILED, True)
    assert state(old_pending) == (EventStatus.PENDING, True)
    assert state(ancient) is None
    assert state(ancient_failed) == (EventStatus.FAILED, True)
    assert prune_stored_events.delay().get() == {"payloads": 0, "rows": 0}  # nothing twice


def test_pruning_works_in_batches_and_a_run_stops_after_its_last_batch(db_session, make_tenant):
    acme = make_tenant("acme", stripe_account="acct_keep_c")
    ids = [stored(acme, "acct_keep_c", EventStatus.PROCESSED, 40 + n) for n in range(7)]

    with unscoped():
        first = prune_events(batch_size=2, max_batches=2)
        db.session.commit()
    assert first.payloads == 4
    kept = [event_id for event_id in ids if state(event_id)[1]]
    assert len(kept) == 3
    assert kept == ids[:3]  # the oldest went first (the newest ids are the youngest here)

    with unscoped():
        assert prune_events(batch_size=2, max_batches=5).payloads == 3
        db.session.commit()


def test_finding_what_to_prune_reads_an_index_not_the_table(db_session):
    """The batch query walks the partial index of kept payloads, oldest first: pruning costs
    the same on a table of millions of rows as on a small one."""
    db.session.execute(text("SET LOCAL enable_seqscan = off"))  # plan as on a big table
    plan = "\n".join(
        db.session.execute(
            text(
                "EXPLAIN SELECT id FROM stripe_events WHERE payload IS NOT NULL AND status IN "
                "('processed', 'ignored') AND received_at < now() ORDER BY received_at LIMIT 5000"
            )
        ).scalars()
    )
    assert "ix_stripe_events_payload_kept" in plan
    assert "Seq Scan" not in plan
    db.session.rollback()
