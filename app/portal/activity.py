"""The record of what customers do in the portal, for the merchant's activity page.

Each function adds one row to the caller's session (scoped to the current tenant) and flushes;
the caller's own record of the action commits it, so both are kept or neither is. The billing
actions call these through their `also_record` hook, just before they commit what Stripe did.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select

from app.clock import utcnow
from app.extensions import db
from app.portal.models import ActivityKind, PortalActivity

# Kept this long, then deleted by app.portal.tasks.forget_old_activity: a year and a month, so
# "the same month last year" is still there to compare with.
KEPT_FOR = timedelta(days=396)


def _add(kind: str, email: str, **fields) -> PortalActivity:
    row = PortalActivity(kind=kind, email=email, occurred_at=utcnow(), **fields)
    db.session.add(row)
    db.session.flush()
    return row


def record_sign_in(email: str, method: str, source: str | None) -> None:
    """`source`: the placement of the link the customer came by (already checked on the way
    in by app.portal.sources.clean_source)."""
    _add(ActivityKind.SIGN_IN, email, source=source, detail=method)


def record_payment(email: str, invoice_id: str, amount: int | None, currency: str | None) -> None:
    """A payment of an invoice; once per invoice, however often its outcome is read again."""
    already = db.session.scalar(
        select(
            exists().where(
                PortalActivity.kind == ActivityKind.PAYMENT, PortalActivity.object_id == invoice_id
            )
        )
    )
    if not already:
        _add(ActivityKind.PAYMENT, email, object_id=invoice_id, amount=amount, currency=currency)


def record_card_replaced(email: str, customer_id: str, card: dict) -> None:
    brand, last4 = (card.get("brand") or "card").title(), card.get("last4") or ""
    _add(
        ActivityKind.CARD_REPLACED,
        email,
        object_id=customer_id,
        detail=f"{brand} ending {last4}".strip()[:120],
    )


def record_cancellation(
    email: str, subscription_id: str, reason: str | None, comment: str | None
) -> None:
    _add(
        ActivityKind.CANCELLATION,
        email,
        object_id=subscription_id,
        reason=(reason or None) and reason[:200],
        comment=(comment or None) and comment[:500],
    )


def record_reactivation(email: str, subscription_id: str) -> None:
    _add(ActivityKind.REACTIVATION, email, object_id=subscription_id)


def forget_activity_before(cutoff: datetime, batch_size: int) -> int:
    """Delete at most `batch_size` rows older than `cutoff` (of every tenant the caller's scope
    allows); returns how many. Small batches keep each transaction's locks short."""
    oldest = (
        select(PortalActivity.id)
        .where(PortalActivity.occurred_at < cutoff)
        .order_by(PortalActivity.id)
        .limit(batch_size)
        .scalar_subquery()
    )
    result = db.session.execute(
        delete(PortalActivity)
        .where(PortalActivity.id.in_(oldest))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
