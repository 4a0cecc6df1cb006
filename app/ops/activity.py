"""The platform's last 24 hours, hour by hour: webhooks received, events failed, and how long
events waited to be processed. One grouped query over the event log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, literal_column, select

from app.billing.models.events import EventStatus, StripeEvent
from app.clock import as_utc
from app.extensions import db
from tenants.context import unscoped

HOURS = 24


@dataclass
class Hour:
    start: datetime
    webhooks: int = 0
    failed: int = 0
    processed: int = 0
    mean_lag_seconds: float | None = None
    max_lag_seconds: float | None = None


def _hour_of(column, dialect: str):
    if dialect == "postgresql":
        return func.date_trunc("hour", column)
    return func.strftime("%Y-%m-%d %H:00:00", column)  # SQLite (the demo)


def _seconds_between(later, earlier, dialect: str):
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * literal_column("86400.0")


def _as_hour(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value).replace(minute=0, second=0, microsecond=0)


def last_day(now: datetime | None = None) -> list[Hour]:
    now = (now or datetime.now(UTC)).astimezone(UTC)
    current = now.replace(minute=0, second=0, microsecond=0)
    hours = {current - timedelta(hours=n): None for n in range(HOURS - 1, -1, -1)}
    table = {start: Hour(start) for start in hours}
    dialect = db.session.get_bind().dialect.name
    bucket = _hour_of(StripeEvent.received_at, dialect).label("hour")
    lag = _seconds_between(StripeEvent.processed_at, StripeEvent.received_at, dialect)
    processed = StripeEvent.status == EventStatus.PROCESSED
    with unscoped():
        rows = db.session.execute(
            select(
                bucket,
                func.count(StripeEvent.id).filter(StripeEvent.source == "webhook"),
                func.count(StripeEvent.id).filter(StripeEvent.status == EventStatus.FAILED),
                func.count(StripeEvent.id).filter(processed),
                func.avg(lag).filter(processed),
                func.max(lag).filter(processed),
            )
            .where(StripeEvent.received_at >= current - timedelta(hours=HOURS - 1))
            .group_by(bucket)
        ).all()
    for start, webhooks, failed, done, mean_lag, max_lag in rows:
        hour = table.get(_as_hour(start))
        if hour is None:
            continue
        hour.webhooks, hour.failed, hour.processed = webhooks, failed, done
        hour.mean_lag_seconds = float(mean_lag) if mean_lag is not None else None
        hour.max_lag_seconds = float(max_lag) if max_lag is not None else None
    return list(table.values())
