"""Merchant accounts: the people who run a tenant, their sessions and their emailed links.

These tables belong to the platform, not to one tenant's scope: a merchant signs in on the bare
platform host, before any tenant is chosen, so neither the ORM hook nor row-level security
filters them (PLATFORM_LEVEL). Every dashboard query filters by the signed-in user's tenant
itself (app/merchant/blueprint.py).
"""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from tenants.scoping import PLATFORM_LEVEL

PLATFORM_TABLE = {"info": {PLATFORM_LEVEL: True}}


class MerchantRole:
    """An owner may do everything; a member everything but the team, the Stripe connection
    and closing the account (app/merchant/roles.py enforces it)."""

    OWNER = "owner"
    MEMBER = "member"
    ALL = (OWNER, MEMBER)


class MerchantUser(UserMixin, db.Model):
    """A person who runs a tenant. One tenant may have several; the first is its owner."""

    __tablename__ = "merchant_users"
    __table_args__ = (
        # Stored lower-cased (the check makes it so), so the plain unique constraint is
        # case-insensitive: Ada@Shop.com and ada@shop.com are one account.
        UniqueConstraint("email"),
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        Index(None, "tenant_id"),
        PLATFORM_TABLE,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    role: Mapped[str] = mapped_column(String(20), nullable=False, default=MerchantRole.OWNER)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def get_id(self) -> str:
        return f"merchant:{self.id}"

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None


class MerchantSession(db.Model):
    """One signed-in browser of a merchant, as PortalSession is for customers: the cookie holds
    a random id whose hash names this row, so sign-out and a password change end it here."""

    __tablename__ = "merchant_sessions"
    __table_args__ = (UniqueConstraint("token_hash"), Index(None, "user_id"), PLATFORM_TABLE)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("merchant_users.id", ondelete="CASCADE"), nullable=False
    )
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TokenPurpose:
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose, not a password
    CHANGE_EMAIL = "change_email"


class MerchantToken(db.Model):
    """An emailed link (verify the address, reset the password, confirm a new address): 256
    random bits stored only as a SHA-256, single use, expiring. `email` is the address the link
    was sent to; for a change of address, the new one."""

    __tablename__ = "merchant_tokens"
    __table_args__ = (
        UniqueConstraint("token_hash"),
        Index(None, "user_id", "purpose"),
        PLATFORM_TABLE,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("merchant_users.id", ondelete="CASCADE"), nullable=False
    )
    purpose: Mapped[str] = mapped_column(String(20), nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MerchantInvite(db.Model):
    """An owner's invitation for an address to join the tenant as a member.

    The link's token is issued when the email is sent (app/merchant/emails.py) and stored only
    as a SHA-256; sending again issues a new one, so only the newest link works. Pending while
    neither accepted nor revoked, and usable until `expires_at`.
    """

    __tablename__ = "merchant_invites"
    __table_args__ = (
        UniqueConstraint("token_hash"),
        Index(None, "tenant_id", "email"),
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        PLATFORM_TABLE,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False, default=MerchantRole.MEMBER)
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("merchant_users.id", ondelete="SET NULL")
    )
    token_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
