"""Which Stripe customers a portal user may see: the tenant's customers with the same email."""

from __future__ import annotations

from sqlalchemy import select

from app.billing.models import CachedCustomer
from app.extensions import db


def customers_for_email(email: str) -> list[CachedCustomer]:
    return db.session.scalars(
        select(CachedCustomer)
        .where(CachedCustomer.email_normalized == email, CachedCustomer.deleted.is_(False))
        .order_by(CachedCustomer.stripe_created, CachedCustomer.id)
    ).all()
