"""How long stored Stripe events are kept.

- The **payload** of a settled event (processed or ignored) goes after 30 days: Stripe itself
  keeps events for 30 days (docs.stripe.com/api/events), so after that nobody can fetch or
  resend one, and the cache was brought up to date by re-fetching the object, not from the
  payload. Failed and pending events keep theirs: they may still be replayed.
- The **row** (id, type, outcome, timings) stays for the operators' figures and the merchant's
  history, and goes after 400 days: every figure looks back at most 30 days, and a year of rows
  answers "was this event received?".

Both run in bounded batches, each its own short transaction, so pruning never holds long
locks or builds one huge transaction on a big table; a run stops after `max_batches` and the
next scheduled run carries on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, null, select, update

from app.billing.models.events import EventStatus, StripeEvent
from app.commits import save_progress
from app.extensions import db

PAYLOAD_KEPT_FOR = timedelta(days=30)
ROW_KEPT_FOR = timedelta(days=400)
SETTLED = (EventStatus.PROCESSED, EventStatus.IGNORED)
BATCH_SIZE = 5000


@dataclass
class Pruned:
    payloads: int = 0
    rows: int = 0


def prune_events(
    now: datetime | None = None, *, batch_size: int = BATCH_SIZE, max_batches: int = 20
) -> Pruned:
    """Prune every tenant's old events (the caller runs this unscoped)."""
    now = now or datetime.now(UTC)
    pruned = Pruned()
    # Rows first: a payload about to go with its row is not rewritten for nothing.
    for _ in range(max_batches):
        done = _delete_old_rows(now - ROW_KEPT_FOR, batch_size)
        save_progress()
        pruned.rows += done
        if done < batch_size:
            break
    for _ in range(max_batches):
        done = _drop_old_payloads(now - PAYLOAD_KEPT_FOR, batch_size)
        save_progress()
        pruned.payloads += done
        if done < batch_size:
            break
    return pruned


def _drop_old_payloads(before: datetime, batch_size: int) -> int:
    batch = (
        select(StripeEvent.id)
        .where(
            StripeEvent.payload.is_not(None),
            StripeEvent.status.in_(SETTLED),
            StripeEvent.received_at < before,
        )
        .order_by(StripeEvent.received_at)
        .limit(batch_size)
        .with_for_update(skip_locked=True)  # one being replayed or read right now waits a run
        .scalar_subquery()
    )
    result = db.session.execute(
        update(StripeEvent)
        .where(StripeEvent.id.in_(batch))
        .values(payload=null())  # SQL NULL, not JSON null: the index and the filter see it
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def _delete_old_rows(before: datetime, batch_size: int) -> int:
    batch = (
        select(StripeEvent.id)
        .where(StripeEvent.status.in_(SETTLED), StripeEvent.received_at < before)
        .order_by(StripeEvent.received_at)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    result = db.session.execute(
        delete(StripeEvent)
        .where(StripeEvent.id.in_(batch))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
