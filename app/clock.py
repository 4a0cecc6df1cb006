"""Time helpers shared by the models: aware UTC now, and Stripe's Unix timestamps."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes, PostgreSQL aware ones: compare them as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def from_timestamp(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None
