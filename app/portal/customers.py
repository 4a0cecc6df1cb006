"""Which Stripe customers a portal user may see: the tenant's customers with the same email."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam, select
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


# Built once (every signed-in page runs it): a request binds its values only, and the tenant
# filter (tenants.scoping) and SQLAlchemy's compiled-statement cache both know its shape.
_USER_WITH_CUSTOMERS = (
    select(PortalUser, PortalSession.id, PortalSession.last_seen_at, CachedCustomer)
    .join(
        PortalSession,
        and_(
            PortalSession.user_id == PortalUser.id,
            PortalSession.token_hash == bindparam("token_hash"),
            PortalSession.ended_at.is_(None),
            PortalSession.last_seen_at > bindparam("idle_since"),
            PortalSession.created_at > bindparam("started_after"),
        ),
    )
    .outerjoin(
        CachedCustomer,
        and_(
            CachedCustomer.tenant_id == PortalUser.tenant_id,
            CachedCustomer.email_normalized == PortalUser.email,
            CachedCustomer.deleted.is_(False),
        ),
    )
    .where(PortalUser.id == bindparam("user_id"))
    .order_by(CachedCustomer.stripe_created, CachedCustomer.id)
    .options(defer(CachedCustomer.data))
)


def user_with_customers(
    user_id: int, token_hash: str, idle_since: datetime, started_after: datetime
) -> tuple[PortalUser | None, tuple[int, datetime] | None, list[CachedCustomer]]:
    """A portal user, their live server-side session, and the customers they may see, in one
    query: every page needs all three.

    The session is the row of `token_hash`, not ended, last used after `idle_since` and started
    after `started_after` (see accounts.load_portal_user); without one the user is not found.
    The customers are the same, in the same order, as customers_for_email(user.email); their
    raw Stripe JSON is loaded only if something reads it.
    """
    rows = db.session.execute(
        _USER_WITH_CUSTOMERS,
        {
            "user_id": user_id,
            "token_hash": token_hash,
            "idle_since": idle_since,
            "started_after": started_after,
        },
    ).all()
    if not rows:
        return None, None, []
    user, session_id, last_seen_at, _ = rows[0]
    return user, (session_id, last_seen_at), [row[3] for row in rows if row[3] is not None]
