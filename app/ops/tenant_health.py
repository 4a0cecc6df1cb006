"""The tenants list: each tenant's figures and health, for every tenant in a fixed number of
queries (one per source, each grouped by tenant), however many tenants there are.

Health is ok, warning or failing by the rules in RULES, which the page prints as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.billing.models.customers import CachedCustomer
from app.billing.models.events import EventStatus, StripeEvent
from app.billing.models.subscriptions import CachedSubscription
from app.billing.models.sync_state import BackfillStatus, SyncState
from app.billing.statuses import RENEWING_STATUSES
from app.clock import as_utc
from app.emails.models import DeliveryStatus, EmailDelivery
from app.extensions import db
from app.portal.models import LoginToken
from tenants.context import unscoped
from tenants.models import StripeConnectionStatus, Tenant, TenantStatus

DAY = timedelta(hours=24)
WEEK = timedelta(days=7)
LAG_WARNING = timedelta(minutes=15)
# Subscriptions that renew by themselves: each renewal sends the tenant's webhook an invoice.
RENEWING = tuple(sorted(RENEWING_STATUSES))

OK, WARNING, FAILING = "ok", "warning", "failing"
SEVERITY = {OK: 0, WARNING: 1, FAILING: 2}


@dataclass
class TenantFigures:
    id: int
    subdomain: str
    name: str
    status: str
    suspended_reason: str | None
    stripe_status: str
    stripe_method: str | None
    stripe_disconnected_reason: str | None
    backfill_status: str = BackfillStatus.NEVER
    backfill_error: str | None = None
    last_webhook_at: datetime | None = None
    oldest_pending_at: datetime | None = None
    pending: int = 0
    failed_24h: int = 0
    failed: int = 0
    emails_sent_24h: int = 0
    emails_failed_24h: int = 0
    sign_ins_7d: int = 0
    customers: int = 0
    overdue_renewals: int = 0  # renewing subscriptions whose cached period has ended
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    health: str = OK
    reasons: list[str] = field(default_factory=list)

    @property
    def lag_seconds(self) -> float:
        if self.oldest_pending_at is None:
            return 0.0
        return max(0.0, (self.now - as_utc(self.oldest_pending_at)).total_seconds())

    @property
    def suspended(self) -> bool:
        return self.status == TenantStatus.SUSPENDED

    @property
    def connected(self) -> bool:
        return self.stripe_status == StripeConnectionStatus.CONNECTED


@dataclass(frozen=True)
class Rule:
    level: str
    title: str
    explanation: str
    applies: Callable[[TenantFigures], bool]


def _silent_while_renewing(t: TenantFigures) -> bool:
    quiet = t.last_webhook_at is None or t.now - as_utc(t.last_webhook_at) > DAY
    return t.connected and t.overdue_renewals > 0 and quiet


RULES = (
    Rule(
        FAILING,
        "Stripe access revoked",
        "The connection ended without the merchant ending it (access removed at Stripe, or "
        "renewal refused): nothing is synced.",
        lambda t: (
            t.stripe_status == StripeConnectionStatus.DISCONNECTED
            and bool(t.stripe_disconnected_reason)
        ),
    ),
    Rule(
        FAILING,
        "Backfill failed",
        "The first copy of the merchant's Stripe account stopped with an error.",
        lambda t: t.backfill_status == BackfillStatus.FAILED,
    ),
    Rule(
        FAILING,
        "Failed events",
        "Events that ran out of retries and were not replayed: the cache is missing changes.",
        lambda t: t.failed > 0,
    ),
    Rule(
        FAILING,
        "No webhook for 24 h while subscriptions renew",
        "A renewing subscription's period has ended, yet no webhook arrived for 24 hours: the "
        "webhook endpoint is probably broken.",
        _silent_while_renewing,
    ),
    Rule(
        WARNING,
        "Emails failing",
        "A sign-in email failed in the last 24 hours.",
        lambda t: t.emails_failed_24h > 0,
    ),
    Rule(
        WARNING,
        "Events waiting",
        "The oldest unprocessed event is more than 15 minutes old (not counted while suspended, "
        "when events wait on purpose).",
        lambda t: not t.suspended and t.lag_seconds > LAG_WARNING.total_seconds(),
    ),
)


def judge(figures: TenantFigures) -> TenantFigures:
    broken = [rule for rule in RULES if rule.applies(figures)]
    figures.reasons = [rule.title for rule in broken]
    figures.health = max((rule.level for rule in broken), key=SEVERITY.get, default=OK)
    return figures


def tenant_figures(now: datetime | None = None, *, only: int | None = None) -> list[TenantFigures]:
    """Every tenant's figures and health: seven queries, whatever the number of tenants.

    `only`: one tenant's id (its own page): the same queries, each narrowed to that tenant.
    """
    now = now or datetime.now(UTC)

    def of_tenants(query, tenant_column):
        return query if only is None else query.where(tenant_column == only)

    day_ago, week_ago = now - DAY, now - WEEK
    # The newest webhook of each tenant: one index probe per tenant, not a read of every event.
    last_webhook = (
        select(func.max(StripeEvent.received_at))
        .where(StripeEvent.tenant_id == Tenant.id, StripeEvent.source == "webhook")
        .correlate(Tenant)
        .scalar_subquery()
    )
    with unscoped():
        rows = {
            row.id: TenantFigures(
                id=row.id,
                subdomain=row.subdomain,
                name=row.name,
                status=row.status,
                suspended_reason=row.suspended_reason,
                stripe_status=row.stripe_status,
                stripe_method=row.stripe_connection_method,
                stripe_disconnected_reason=row.stripe_disconnected_reason,
                last_webhook_at=row.last_webhook_at,
                now=now,
            )
            for row in db.session.execute(
                of_tenants(
                    select(
                        Tenant.id,
                        Tenant.subdomain,
                        Tenant.name,
                        Tenant.status,
                        Tenant.suspended_reason,
                        Tenant.stripe_status,
                        Tenant.stripe_connection_method,
                        Tenant.stripe_disconnected_reason,
                        last_webhook.label("last_webhook_at"),
                    ),
                    Tenant.id,
                )
            )
        }
        for tenant_id, status, error in db.session.execute(
            of_tenants(
                select(SyncState.tenant_id, SyncState.backfill_status, SyncState.backfill_error),
                SyncState.tenant_id,
            )
        ):
            if tenant_id in rows:
                rows[tenant_id].backfill_status, rows[tenant_id].backfill_error = status, error

        # Only the unsettled events, few however many are stored (an index on the status).
        pending = StripeEvent.status == EventStatus.PENDING
        failed = StripeEvent.status == EventStatus.FAILED
        for row in db.session.execute(
            of_tenants(
                select(
                    StripeEvent.tenant_id,
                    func.min(StripeEvent.received_at).filter(pending),
                    func.count().filter(pending),
                    func.count().filter(failed, StripeEvent.received_at >= day_ago),
                    func.count().filter(failed),
                )
                .where(StripeEvent.status.in_((EventStatus.PENDING, EventStatus.FAILED)))
                .group_by(StripeEvent.tenant_id),
                StripeEvent.tenant_id,
            )
        ):
            if (figures := rows.get(row[0])) is not None:
                (
                    figures.oldest_pending_at,
                    figures.pending,
                    figures.failed_24h,
                    figures.failed,
                ) = row[1:]

        for tenant_id, sent, failed_emails in db.session.execute(
            of_tenants(
                select(
                    EmailDelivery.tenant_id,
                    func.count(EmailDelivery.id).filter(
                        EmailDelivery.status == DeliveryStatus.SENT
                    ),
                    func.count(EmailDelivery.id).filter(
                        EmailDelivery.status == DeliveryStatus.FAILED
                    ),
                )
                .where(EmailDelivery.created_at >= day_ago)
                .group_by(EmailDelivery.tenant_id),
                EmailDelivery.tenant_id,
            )
        ):
            if tenant_id in rows:
                rows[tenant_id].emails_sent_24h = sent
                rows[tenant_id].emails_failed_24h = failed_emails

        for tenant_id, count in db.session.execute(
            of_tenants(
                select(LoginToken.tenant_id, func.count(LoginToken.id))
                .where(LoginToken.used_at >= week_ago)
                .group_by(LoginToken.tenant_id),
                LoginToken.tenant_id,
            )
        ):
            if tenant_id in rows:
                rows[tenant_id].sign_ins_7d = count

        for tenant_id, count in db.session.execute(
            of_tenants(
                select(CachedCustomer.tenant_id, func.count())  # the index alone answers
                .where(CachedCustomer.deleted.is_(False))
                .group_by(CachedCustomer.tenant_id),
                CachedCustomer.tenant_id,
            )
        ):
            if tenant_id in rows:
                rows[tenant_id].customers = count

        for tenant_id, count in db.session.execute(
            of_tenants(
                select(CachedSubscription.tenant_id, func.count(CachedSubscription.id))
                .where(
                    CachedSubscription.deleted.is_(False),
                    CachedSubscription.status.in_(RENEWING),
                    CachedSubscription.current_period_end < now,
                )
                .group_by(CachedSubscription.tenant_id),
                CachedSubscription.tenant_id,
            )
        ):
            if tenant_id in rows:
                rows[tenant_id].overdue_renewals = count
    return [judge(figures) for figures in rows.values()]


# The list's sorting, searching and filtering ------------------------------------------------

_FAR_PAST = datetime(1970, 1, 1, tzinfo=UTC)
SORT_KEYS: dict[str, Callable[[TenantFigures], object]] = {
    "health": lambda t: (SEVERITY[t.health], len(t.reasons)),
    "subdomain": lambda t: t.subdomain,
    "name": lambda t: t.name.lower(),
    "status": lambda t: t.status,
    "stripe": lambda t: t.stripe_status,
    "backfill": lambda t: t.backfill_status,
    "last_webhook": lambda t: as_utc(t.last_webhook_at) if t.last_webhook_at else _FAR_PAST,
    "lag": lambda t: t.lag_seconds,
    "failed": lambda t: t.failed_24h,
    "emails": lambda t: t.emails_failed_24h,
    "sign_ins": lambda t: t.sign_ins_7d,
    "customers": lambda t: t.customers,
}
# Where the first click on a column sorts the worst or the biggest first.
DESCENDING_FIRST = frozenset(
    {"health", "last_webhook", "lag", "failed", "emails", "sign_ins", "customers"}
)


def listed(
    rows: list[TenantFigures],
    *,
    search: str = "",
    unhealthy_only: bool = False,
    sort: str = "health",
    descending: bool | None = None,
) -> list[TenantFigures]:
    needle = search.strip().lower()
    if needle:
        rows = [t for t in rows if needle in t.subdomain or needle in t.name.lower()]
    if unhealthy_only:
        rows = [t for t in rows if t.health != OK]
    key = SORT_KEYS.get(sort, SORT_KEYS["health"])
    if descending is None:
        descending = sort in DESCENDING_FIRST
    # Ties in the subdomain's order, whichever way the column is sorted.
    rows = sorted(rows, key=lambda t: t.subdomain)
    return sorted(rows, key=key, reverse=descending)
