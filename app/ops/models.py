"""Operators (the platform's own staff), their sessions and recovery codes, and the audit log of
what they did.

Platform-level tables, like the merchant accounts: an operator acts across tenants, so neither
the ORM hook nor row-level security scopes them (PLATFORM_LEVEL). The audit log names a tenant by
id and subdomain without a foreign key, so its entries outlive the tenant and the operator.
"""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
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
from tenants.crypto import EncryptedText
from tenants.scoping import PLATFORM_LEVEL

PLATFORM_TABLE = {"info": {PLATFORM_LEVEL: True}}


class Operator(UserMixin, db.Model):
    """One of the platform's staff. Made by `flask operators create`, which prints a one-time
    setup link; the password is chosen there, the authenticator enrolled at the first sign-in."""

    __tablename__ = "operators"
    __table_args__ = (
        UniqueConstraint("email"),
        UniqueConstraint("setup_token_hash"),
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        PLATFORM_TABLE,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))  # None until set up
    setup_token_hash: Mapped[str | None] = mapped_column(String(64))
    setup_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The authenticator's secret, encrypted at rest; enrolled once a code from it was typed.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The newest 30-second step a code was accepted for: a code is good once, and never one of
    # an earlier step (a code seen over a shoulder cannot be typed again).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def get_id(self) -> str:
        return f"operator:{self.id}"

    @property
    def enrolled(self) -> bool:
        return self.totp_enrolled_at is not None


class OperatorSession(db.Model):
    """One signed-in browser of an operator: the cookie holds a random id whose hash names this
    row (as MerchantSession), so sign-out and removal end it here."""

    __tablename__ = "operator_sessions"
    __table_args__ = (UniqueConstraint("token_hash"), Index(None, "operator_id"), PLATFORM_TABLE)

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(
        ForeignKey("operators.id", ondelete="CASCADE"), nullable=False
    )
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RecoveryCode(db.Model):
    """A one-time code for when the authenticator is lost: shown once, stored as a hash."""

    __tablename__ = "operator_recovery_codes"
    __table_args__ = (UniqueConstraint("operator_id", "code_hash"), PLATFORM_TABLE)

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(
        ForeignKey("operators.id", ondelete="CASCADE"), nullable=False
    )
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(db.Model):
    """What an operator did: append-only. The app has no path that changes or deletes a row,
    and on PostgreSQL a trigger refuses UPDATE and DELETE whoever asks (migration 0010)."""

    __tablename__ = "ops_audit_log"
    __table_args__ = (Index(None, "at"), Index(None, "tenant_id", "at"), PLATFORM_TABLE)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    operator_id: Mapped[int | None] = mapped_column(Integer)
    operator_email: Mapped[str] = mapped_column(String(254), nullable=False)
    action: Mapped[str] = mapped_column(String(60), nullable=False)
    tenant_id: Mapped[int | None] = mapped_column(Integer)
    tenant_subdomain: Mapped[str | None] = mapped_column(String(63))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
