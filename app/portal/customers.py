"""Which Stripe customers a portal user may see: the tenant's customers with the same email."""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.orm import defer

from app.billing.models import CachedCustomer
from app.extensions import db
from app.portal.models import PortalSession, PortalUser


def customers_for_email(email: str) -> list[CachedCustomer]:
    return db.session.scalars(
        select(CachedCustomer)
        .where(CachedCustomer.email_normalized == email, CachedCustomer.deleted.is_(False))
        .order_by(CachedCustomer.stripe_created, CachedCustomer.id)
    ).all()


def user_with_customers(
    user_id: int, live_session
) -> tuple[PortalUser | None, object | None, list[CachedCustomer]]:
    """A portal user, their live server-side session, and the customers they may see, in one
    query: every page needs all three.

    `live_session` is the condition a PortalSession row must meet (see accounts.live_session);
    without such a row the user is not found. The customers are the same, in the same order, as
    customers_for_email(user.email); their raw Stripe JSON is loaded only if something reads it.
    """
    rows = db.session.execute(
        select(PortalUser, PortalSession.id, PortalSession.last_seen_at, CachedCustomer)
        .join(PortalSession, and_(PortalSession.user_id == PortalUser.id, live_session))
        .outerjoin(
            CachedCustomer,
            and_(
                CachedCustomer.tenant_id == PortalUser.tenant_id,
                CachedCustomer.email_normalized == PortalUser.email,
                CachedCustomer.deleted.is_(False),
            ),
        )
        .where(PortalUser.id == user_id)
        .order_by(CachedCustomer.stripe_created, CachedCustomer.id)
        .options(defer(CachedCustomer.data))
    ).all()
    if not rows:
        return None, None, []
    user, session_id, last_seen_at, _ = rows[0]
    return user, (session_id, last_seen_at), [row[3] for row in rows if row[3] is not None]
