"""The record of one email: queued, sent or failed (with the error), for merchants and operators."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from tenants.scoping import TenantScoped


class DeliveryStatus:
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class EmailDelivery(TenantScoped, db.Model):
    __tablename__ = "email_deliveries"
    __table_args__ = (Index(None, "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)  # login_link, no_account
    to_email: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=DeliveryStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Only with MAIL_CAPTURE (the local demo): the message itself, shown in the demo mailbox.
    captured_text: Mapped[str | None] = mapped_column(Text)
    captured_html: Mapped[str | None] = mapped_column(Text)
