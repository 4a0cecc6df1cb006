"""What the activity page and its CSV read of portal_activity: the filtered list, and the last
30 days in figures (per kind, per day, why customers cancelled, where sign-ins came from).

Every function reads inside the merchant's tenant context (the caller's `tenant_context`), so
both isolation layers keep another tenant's rows out, whatever the filter says.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, tuple_

from app.charts import Chart, bar_chart
from app.clock import as_utc, utcnow
from app.extensions import db
from app.merchant.list_filters import PER_PAGE, ListFilter, Page, page_of
from app.portal.formatting import money
from app.portal.models import ActivityKind, PortalActivity
from app.portal.sources import PLACEMENTS

KIND_LABELS = {
    ActivityKind.SIGN_IN: "Signed in",
    ActivityKind.PAYMENT: "Paid an invoice",
    ActivityKind.CARD_REPLACED: "Replaced the card",
    ActivityKind.CANCELLATION: "Cancelled",
    ActivityKind.REACTIVATION: "Reactivated",
}
KIND_TOTALS = {  # the figures' captions: "12 sign-ins"
    ActivityKind.SIGN_IN: "Sign-ins",
    ActivityKind.PAYMENT: "Payments",
    ActivityKind.CARD_REPLACED: "Cards replaced",
    ActivityKind.CANCELLATION: "Cancellations",
    ActivityKind.REACTIVATION: "Reactivations",
}
PLACEMENT_LABELS = {slug: label for slug, label, _ in PLACEMENTS}
NO_TAG = "No tag (typed address, bookmark, password)"
NO_REASON = "No reason given"
OWN_WORDS = "In their own words only"  # no reason chosen from the list, but something typed
SUMMARY_DAYS = 30
PHONE_CHART_WIDTH = 360
# An export is the filtered list, all of it, up to this many rows (13 months of a busy portal).
EXPORT_LIMIT = 200_000
EXPORT_CHUNK = 1000


def _filtered(filters: ListFilter, zone: ZoneInfo):
    query = select(PortalActivity)
    if filters.kind:
        query = query.where(PortalActivity.kind == filters.kind)
    start, end = filters.bounds(zone)
    if start:
        query = query.where(PortalActivity.occurred_at >= start)
    if end:
        query = query.where(PortalActivity.occurred_at < end)
    matches_email = filters.email_condition(PortalActivity.email)
    if matches_email is not None:
        query = query.where(matches_email)
    return query


def activity_page(filters: ListFilter, zone: ZoneInfo) -> tuple[list[PortalActivity], Page]:
    if filters.errors:
        return [], page_of(1, 0)
    query = _filtered(filters, zone)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = page_of(filters.page, total)
    rows = db.session.scalars(
        query.order_by(PortalActivity.occurred_at.desc(), PortalActivity.id.desc())
        .offset(page.offset)
        .limit(PER_PAGE)
    ).all()
    return list(rows), page


def exported_rows(filters: ListFilter, zone: ZoneInfo) -> Iterator[PortalActivity]:
    """The filtered rows, oldest first, read a chunk at a time (by the last row's time and id)
    and let go of after each: a long export never holds every row in memory."""
    query = _filtered(filters, zone).order_by(PortalActivity.occurred_at, PortalActivity.id)
    after, sent = None, 0
    while sent < EXPORT_LIMIT:
        chunk_query = query
        if after is not None:
            chunk_query = query.where(
                tuple_(PortalActivity.occurred_at, PortalActivity.id) > tuple_(*after)
            )
        chunk = db.session.scalars(chunk_query.limit(min(EXPORT_CHUNK, EXPORT_LIMIT - sent))).all()
        yield from chunk
        sent += len(chunk)
        if len(chunk) < EXPORT_CHUNK:
            return
        after = (chunk[-1].occurred_at, chunk[-1].id)
        db.session.expunge_all()


def what_happened(row: PortalActivity) -> str:
    """The row's details in words, as the list and the CSV show them."""
    if row.kind == ActivityKind.SIGN_IN:
        how = "Password" if row.detail == "password" else "Emailed link or code"
        where = PLACEMENT_LABELS.get(row.source or "", row.source)
        return how + (f" · {where} link" if where else "")
    if row.kind == ActivityKind.PAYMENT:
        return money(row.amount, row.currency) if row.amount is not None else ""
    if row.kind == ActivityKind.CANCELLATION:
        return " — ".join(part for part in (row.reason, row.comment) if part) or NO_REASON
    return row.detail or ""


@dataclass(frozen=True)
class Summary:
    since: date
    totals: list[tuple[str, str, int]]  # (kind, caption, count)
    days: list[tuple[date, int]]
    chart: Chart
    phone_chart: Chart  # the same, drawn narrow: its labels stay readable at phone width
    reasons: list[tuple[str, int]]
    placements: list[tuple[str, int]]

    @property
    def any(self) -> bool:
        return any(count for _, _, count in self.totals)


def last_30_days(zone: ZoneInfo, now: datetime | None = None) -> Summary:
    today = (now or utcnow()).astimezone(zone).date()
    first = today - timedelta(days=SUMMARY_DAYS - 1)
    start = ListFilter(since=first).bounds(zone)[0]
    recent = PortalActivity.occurred_at >= start
    per_kind = dict(
        db.session.execute(
            select(PortalActivity.kind, func.count()).where(recent).group_by(PortalActivity.kind)
        ).all()
    )
    # Days in the merchant's zone: bucketed here, as SQLite (the demo) has no time zones.
    per_day = Counter(
        as_utc(moment).astimezone(zone).date()
        for moment in db.session.scalars(select(PortalActivity.occurred_at).where(recent))
    )
    days = [(first + timedelta(days=n), 0) for n in range(SUMMARY_DAYS)]
    days = [(day, per_day.get(day, 0)) for day, _ in days]
    title = f"Customer activity per day, last {SUMMARY_DAYS} days"
    labels, counts = [f"{day.day} {day:%b}" for day, _ in days], [count for _, count in days]
    chart = bar_chart(title, labels, counts)
    phone_chart = bar_chart(title, labels, counts, width=PHONE_CHART_WIDTH, label_every=7)
    typed = PortalActivity.comment.is_not(None) & (PortalActivity.comment != "")
    reasons = db.session.execute(
        select(PortalActivity.reason, typed, func.count())
        .where(recent, PortalActivity.kind == ActivityKind.CANCELLATION)
        .group_by(PortalActivity.reason, typed)
    ).all()
    sources = db.session.execute(
        select(PortalActivity.source, func.count())
        .where(recent, PortalActivity.kind == ActivityKind.SIGN_IN)
        .group_by(PortalActivity.source)
    ).all()
    return Summary(
        since=first,
        totals=[(kind, KIND_TOTALS[kind], per_kind.get(kind, 0)) for kind in ActivityKind.ALL],
        days=days,
        chart=chart,
        phone_chart=phone_chart,
        reasons=_ranked(_reason_counts(reasons)),
        placements=_ranked(
            (PLACEMENT_LABELS.get(source, source) if source else NO_TAG, count)
            for source, count in sources
        ),
    )


def _reason_counts(rows) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for reason, typed, count in rows:
        label = reason or (OWN_WORDS if typed else NO_REASON)
        counts[label] = counts.get(label, 0) + count
    return list(counts.items())


def _ranked(pairs) -> list[tuple[str, int]]:
    merged = Counter()
    for label, count in pairs:
        merged[label] += count
    return sorted(merged.items(), key=lambda pair: (-pair[1], pair[0]))
