"""Portal users and their single-use login tokens, both scoped to one tenant."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from tenants.scoping import TenantScoped


class PortalUser(UserMixin, TenantScoped, db.Model):
    """A person signed in to one tenant's portal; sees its customers that share their email."""

    __tablename__ = "portal_users"
    __table_args__ = (UniqueConstraint("tenant_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)  # always lower-case
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def get_id(self) -> str:
        return f"portal:{self.id}"

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)


class LoginToken(TenantScoped, db.Model):
    """One emailed login: a link token and a short code, stored only as hashes."""

    __tablename__ = "login_tokens"
    __table_args__ = (
        UniqueConstraint("token_hash"),
        Index(None, "tenant_id", "email", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    code_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Where the customer found the login link (?src=email-footer ...), for the merchant's eyes.
    source: Mapped[str | None] = mapped_column(String(40))


class PortalSession(TenantScoped, db.Model):
    """One signed-in browser. The cookie carries only a random id; this row decides whether it
    is still good, so signing out, "sign out everywhere" and a password change end sessions on
    the server, and a copied cookie dies with its row."""

    __tablename__ = "portal_sessions"
    __table_args__ = (UniqueConstraint("token_hash"), Index(None, "tenant_id", "user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("portal_users.id", ondelete="CASCADE"), nullable=False
    )
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    method: Mapped[str] = mapped_column(String(20), nullable=False)  # "email" or "password"
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ActivityKind:
    SIGN_IN = "sign_in"
    PAYMENT = "payment"
    CARD_REPLACED = "card_replaced"
    CANCELLATION = "cancellation"
    REACTIVATION = "reactivation"
    ALL = (SIGN_IN, PAYMENT, CARD_REPLACED, CANCELLATION, REACTIVATION)


class PortalActivity(TenantScoped, db.Model):
    """One thing a customer did in the portal, for the merchant's activity page. Written in the
    same transaction as the action's own record (app/portal/activity.py), so the page never
    shows an action that did not happen nor misses one that did. Kept 13 months."""

    __tablename__ = "portal_activity"
    __table_args__ = (
        Index(None, "tenant_id", "occurred_at"),
        Index(None, "tenant_id", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow
    )
    email: Mapped[str] = mapped_column(String(254), nullable=False)  # the portal user's
    # The Stripe object acted on: the invoice paid, the subscription cancelled, the customer.
    object_id: Mapped[str | None] = mapped_column(String(255))
    amount: Mapped[int | None] = mapped_column(BigInteger)  # minor units, as Stripe counts
    currency: Mapped[str | None] = mapped_column(String(3))
    source: Mapped[str | None] = mapped_column(String(40))  # a sign-in's link placement (?src=)
    reason: Mapped[str | None] = mapped_column(String(200))  # a cancellation's chosen reason
    comment: Mapped[str | None] = mapped_column(String(500))  # ... and the customer's words
    detail: Mapped[str | None] = mapped_column(String(120))  # "Visa ending 4242", "password"
