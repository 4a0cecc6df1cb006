"""A Stripe App's tokens for one tenant: an access token that expires, and its refresh token.

They live apart from the tenant's row because a renewal must be committed at once, on its own
connection, whatever the work that needed it then does: Stripe answers each refresh with a new
refresh token and refuses the spent one, so a renewal lost with a rolled-back transaction would
disconnect the merchant. A backfill holds the tenant's row FOR SHARE for its whole run; this
table is never locked by it, so a renewal in the middle of a backfill does not wait on itself.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from tenants.crypto import EncryptedText
from tenants.scoping import TenantScoped


class StripeAppTokens(TenantScoped, db.Model):
    __tablename__ = "stripe_app_tokens"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[str] = mapped_column(String(255), nullable=False)
    access_token: Mapped[str] = mapped_column(EncryptedText, nullable=False)
    refresh_token: Mapped[str] = mapped_column(EncryptedText, nullable=False)
    access_token_expires_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False
    )
    renewed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow
    )


def forget_app_tokens(tenant_id: int) -> None:
    """Delete the tenant's Stripe App tokens, in the caller's transaction."""
    from tenants.context import tenant_context

    with tenant_context(tenant_id):
        db.session.execute(db.delete(StripeAppTokens))
