"""Which Stripe customers a portal user may see: the tenant's customers with the same email."""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.orm import defer

from app.billing.models import CachedCustomer
from app.extensions import db
from app.portal.models import PortalUser


def customers_for_email(email: str) -> list[CachedCustomer]:
    return db.session.scalars(
        select(CachedCustomer)
        .where(CachedCustomer.email_normalized == email, CachedCustomer.deleted.is_(False))
        .order_by(CachedCustomer.stripe_created, CachedCustomer.id)
    ).all()


def user_with_customers(user_id: int) -> tuple[PortalUser | None, list[CachedCustomer]]:
    """A portal user and the customers they may see, in one query: every page needs both.

    The same customers, in the same order, as customers_for_email(user.email); their raw Stripe
    JSON is loaded only if something reads it.
    """
    rows = db.session.execute(
        select(PortalUser, CachedCustomer)
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
        return None, []
    return rows[0][0], [customer for _, customer in rows if customer is not None]
