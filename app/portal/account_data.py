"""Everything the account page shows, read from the cache in a fixed number of queries.

Three queries for all of the user's customers at once (subscriptions with their items, prices,
products and next-invoice previews; cards; recent invoices), so the count does not grow with
customers, subscriptions or invoices, and no Stripe call is made.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cached_property

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import aliased, defer

from app.billing.models import (
    CachedCustomer,
    CachedInvoice,
    CachedPaymentMethod,
    CachedPrice,
    CachedProduct,
    CachedSubscription,
    CachedSubscriptionItem,
    CachedSubscriptionSchedule,
    UpcomingInvoice,
)
from app.billing.statuses import RENEWING_STATUSES, SubscriptionStatus
from app.clock import as_utc, from_timestamp
from app.extensions import db
from app.portal.subscription_prices import (
    LineView,
    known_amount,
    price_summary,
    shows_item_list,
    unknown_because,
)
from tenants.models import Tenant

RECENT_INVOICES = 5


@dataclass
class SubscriptionView:
    """One subscription as the account page shows it; each fact is worked out once per page
    (the template asks for some of them several times)."""

    row: CachedSubscription
    lines: list[LineView]
    card: CachedPaymentMethod | None
    upcoming: UpcomingInvoice | None
    can_cancel: bool
    can_reactivate: bool
    # A customer-level coupon discounts every subscription of the customer.
    customer_discounted: bool = False
    schedule: CachedSubscriptionSchedule | None = None

    @cached_property
    def pays_by_invoice(self) -> bool:
        """collection_method=send_invoice: Stripe emails each invoice, to be paid by its due
        date; no card is charged for it."""
        return self.row.collection_method == "send_invoice"

    @cached_property
    def days_until_due(self) -> int | None:
        return self.row.days_until_due

    @cached_property
    def scheduled(self) -> bool:
        """Managed by a schedule: cancelling goes through it (Stripe refuses it directly)."""
        return self.schedule is not None and self.schedule.status in ("active", "not_started")

    @cached_property
    def phases_ahead(self) -> list[tuple[datetime, list[LineView]]]:
        """The schedule's phases still to start: when, and what each will bill."""
        if not self.scheduled:
            return []
        now = datetime.now(UTC)
        return [
            (start, [phase_line(item) for item in phase["items"]])
            for phase in self.schedule.phases
            if (start := from_timestamp(phase.get("start"))) and start > now
        ]

    @cached_property
    def title(self) -> str:
        return " + ".join(line.product for line in self.lines) or "Subscription"

    @cached_property
    def currency(self) -> str | None:
        return self.row.currency or (self.lines[0].currency if self.lines else None)

    @cached_property
    def discounted(self) -> bool:
        return self.row.has_discount or self.customer_discounted

    @cached_property
    def price_summary(self) -> str:
        return price_summary(self.lines, self.currency, self.discounted, self.row.adds_tax)

    @cached_property
    def shows_item_list(self) -> bool:
        return shows_item_list(self.lines)

    @cached_property
    def preview_is_old(self) -> bool:
        """Read more than a day ago: a change Stripe sent no event about may be missing."""
        return self.upcoming is not None and datetime.now(UTC) - as_utc(
            self.upcoming.synced_at
        ) > timedelta(days=1)

    @cached_property
    def next_amount_unknown_because(self) -> str:
        return unknown_because(self.lines, self.discounted, self.row.adds_tax)

    @cached_property
    def next_amount(self) -> tuple[int, str | None] | None:
        """The next payment's amount and currency: Stripe's preview, or the prices' sum when
        they alone decide it; None when it is not known."""
        if self.upcoming is not None:
            return self.upcoming.amount_due, self.upcoming.currency
        amount = known_amount(self.lines, self.discounted, self.row.adds_tax)
        return (amount, self.currency) if amount is not None else None

    @cached_property
    def next_amount_is_estimate(self) -> bool:
        """The prices' sum, shown until Stripe's preview is read (when the customer signs in):
        discounts, credit or proration it cannot see may change the charge."""
        return self.upcoming is None and self.next_amount is not None

    @cached_property
    def cancels_at_period_end(self) -> bool:
        """Set to end while still in good standing (a past-due one shows its trouble instead)."""
        return self.row.cancel_at_period_end and self.row.status in (
            SubscriptionStatus.ACTIVE,
            SubscriptionStatus.TRIALING,
        )

    @cached_property
    def collection_paused(self) -> bool:
        """pause_collection: still active, but Stripe charges nothing until it resumes."""
        return self.row.pause_behavior is not None and self.row.status in RENEWING_STATUSES

    @cached_property
    def ends_at(self) -> datetime | None:
        """When a live subscription is set to end: at the period's end, or on a fixed date
        (cancel_at, set by the merchant or by newer API versions)."""
        if self.row.status not in RENEWING_STATUSES:
            return None
        if self.row.cancel_at_period_end:
            return self.row.cancel_at or self.row.current_period_end
        if self.row.cancel_at is None and self.scheduled and self.schedule.end_behavior == "cancel":
            return self.schedule.last_phase_end  # the schedule cancels it after its last phase
        return self.row.cancel_at

    @cached_property
    def ends_on_fixed_date(self) -> bool:
        return self.ends_at is not None and not self.row.cancel_at_period_end

    @cached_property
    def next_billing_at(self) -> datetime | None:
        if self.row.cancel_at_period_end or self.row.status not in RENEWING_STATUSES:
            return None
        if self.collection_paused:
            return None
        if self.upcoming and self.upcoming.next_payment_at:
            next_at = self.upcoming.next_payment_at
        else:
            next_at = self.row.current_period_end
        if next_at and self.ends_at and as_utc(next_at) >= as_utc(self.ends_at):
            return None  # it ends first
        return next_at


@dataclass
class CustomerView:
    customer: CachedCustomer
    # The default Stripe charges for renewals; None even when other methods are attached.
    card: CachedPaymentMethod | None
    subscriptions: list[SubscriptionView] = field(default_factory=list)
    invoices: list = field(default_factory=list)  # the few newest, as invoice table rows
    # Attached but not the default: on file, yet never charged for a renewal.
    other_methods: list[CachedPaymentMethod] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.customer.name or self.customer.email or self.customer.stripe_id


def load_account(tenant: Tenant, customers: list[CachedCustomer]) -> list[CustomerView]:
    ids = [c.stripe_id for c in customers]
    if not ids:
        return []
    subscriptions, lines, upcoming, schedules = _subscriptions_with_lines(ids)
    cards = {m.stripe_id: m for m in db.session.scalars(_CARDS, {"customer_ids": ids})}
    invoices = _recent_invoices(ids)

    views = {
        c.stripe_id: CustomerView(c, cards.get(c.default_payment_method_id or ""))
        for c in customers
    }
    for method in sorted(cards.values(), key=lambda m: m.stripe_created or m.synced_at):
        owner = views.get(method.customer_id or "")
        if owner is not None and method is not owner.card:
            owner.other_methods.insert(0, method)  # newest first
    for sub in subscriptions:
        owner = views[sub.customer_id]
        live = sub.status in RENEWING_STATUSES
        owner.subscriptions.append(
            SubscriptionView(
                row=sub,
                lines=lines.get(sub.stripe_id, []),
                card=cards.get(sub.default_payment_method_id or "") or owner.card,
                upcoming=upcoming.get(sub.stripe_id),
                can_cancel=tenant.allow_cancel and live and ends_later_than_period(sub),
                can_reactivate=tenant.allow_reactivate and live and sub.cancel_at_period_end,
                customer_discounted=owner.customer.has_discount,
                schedule=schedules.get(sub.stripe_id),
            )
        )
    for invoice in invoices:
        views[invoice.customer_id].invoices.append(invoice)
    return list(views.values())


def open_invoices_of(subscription_id: str) -> list[CachedInvoice]:
    """A subscription's invoices still due: cancelling does not cancel them (one query)."""
    return db.session.scalars(
        select(CachedInvoice)
        .where(
            CachedInvoice.subscription_id == subscription_id,
            CachedInvoice.status == "open",
            CachedInvoice.deleted.is_(False),
        )
        .order_by(CachedInvoice.stripe_created)
        .options(defer(CachedInvoice.data))
    ).all()


def schedule_phases_of(sub: CachedSubscription) -> list[tuple[datetime, list[LineView]]]:
    """The phases still ahead of the schedule managing `sub` (one query, none without one)."""
    if not sub.schedule_id:
        return []
    schedule = db.session.scalars(
        select(CachedSubscriptionSchedule).where(
            CachedSubscriptionSchedule.stripe_id == sub.schedule_id
        )
    ).one_or_none()
    view = SubscriptionView(sub, [], None, None, False, False, schedule=schedule)
    return view.phases_ahead


def ends_later_than_period(sub: CachedSubscription) -> bool:
    """Whether cancelling at the period's end would end it sooner than it is set to end."""
    if sub.cancel_at_period_end:
        return False
    if sub.cancel_at is None or sub.current_period_end is None:
        return True
    return as_utc(sub.cancel_at) > as_utc(sub.current_period_end)


def _subscriptions_with_lines(customer_ids: list[str]):
    """The customers' subscriptions (newest first), their lines and previews: one query."""
    rows = db.session.execute(_SUBSCRIPTIONS, {"customer_ids": customer_ids}).all()
    subscriptions: dict[str, CachedSubscription] = {}  # in query order
    lines: dict[str, list[LineView]] = defaultdict(list)
    upcoming: dict[str, UpcomingInvoice] = {}
    schedules: dict[str, CachedSubscriptionSchedule] = {}
    for sub, item, price, product, preview, schedule in rows:
        subscriptions.setdefault(sub.stripe_id, sub)
        if preview is not None:
            upcoming[sub.stripe_id] = preview
        if schedule is not None:
            schedules[sub.stripe_id] = schedule
        if item is None:
            continue
        lines[sub.stripe_id].append(
            LineView(
                product=(product.name if product else None)
                or (price.nickname if price else None)
                or "Subscription",
                quantity=item.quantity,
                unit_amount=price.unit_amount if price else None,
                currency=price.currency if price else None,
                interval=price.recurring_interval if price else None,
                interval_count=price.recurring_interval_count if price else None,
                billing_scheme=price.billing_scheme if price else "per_unit",
                usage_type=price.usage_type if price else "licensed",
                unit_amount_decimal=price.unit_amount_decimal if price else None,
            )
        )
    return list(subscriptions.values()), lines, upcoming, schedules


def phase_line(item: dict) -> LineView:
    """One item of a schedule's phase, as the page lists a subscription's items."""
    decimal = item.get("unit_amount_decimal")
    return LineView(
        product=item.get("product") or item.get("nickname") or "Subscription",
        quantity=item.get("quantity", 1),
        unit_amount=item.get("unit_amount"),
        currency=item.get("currency"),
        interval=item.get("recurring_interval"),
        interval_count=item.get("recurring_interval_count"),
        billing_scheme=item.get("billing_scheme") or "per_unit",
        usage_type=item.get("usage_type") or "licensed",
        unit_amount_decimal=Decimal(decimal) if decimal is not None else None,
    )


def _recent_invoices(customer_ids: list[str]) -> list:
    """The newest RECENT_INVOICES of each customer, in one query: a customer with many
    invoices never crowds out another's."""
    return db.session.execute(_RECENT_INVOICES, {"customer_ids": customer_ids}).all()


def invoice_page(customer_ids: list[str], page: int, per_page: int = 20):
    """One page of invoices (newest first) and whether there is a next page: one query."""
    params = {"customer_ids": customer_ids, "skip": (page - 1) * per_page, "take": per_page + 1}
    rows = db.session.execute(_INVOICES, params).all()
    return rows[:per_page], len(rows) > per_page


# The statements are built once; a request only binds its values. tenants.scoping still adds
# the tenant filter to every execution. `defer(data)`: the raw Stripe JSON beside each row is
# never read by a page, so it stays in the database (loaded only if some code asks for it).

_CUSTOMER_IDS = bindparam("customer_ids", expanding=True)


def _same_tenant(column, other_column):
    """A join on a Stripe id that also matches tenant_id: rows of two tenants never meet."""
    return and_(column == other_column, column.table.c.tenant_id == other_column.table.c.tenant_id)


_SUBSCRIPTIONS = (
    select(
        CachedSubscription,
        CachedSubscriptionItem,
        CachedPrice,
        CachedProduct,
        UpcomingInvoice,
        CachedSubscriptionSchedule,
    )
    .outerjoin(
        CachedSubscriptionItem,
        _same_tenant(CachedSubscriptionItem.subscription_id, CachedSubscription.stripe_id),
    )
    .outerjoin(CachedPrice, _same_tenant(CachedPrice.stripe_id, CachedSubscriptionItem.price_id))
    .outerjoin(CachedProduct, _same_tenant(CachedProduct.stripe_id, CachedPrice.product_id))
    .outerjoin(
        UpcomingInvoice,
        and_(
            _same_tenant(UpcomingInvoice.stripe_id, CachedSubscription.stripe_id),
            UpcomingInvoice.customer_id == CachedSubscription.customer_id,
        ),
    )
    .outerjoin(
        CachedSubscriptionSchedule,
        _same_tenant(CachedSubscriptionSchedule.stripe_id, CachedSubscription.schedule_id),
    )
    .where(CachedSubscription.customer_id.in_(_CUSTOMER_IDS), CachedSubscription.deleted.is_(False))
    .order_by(
        CachedSubscription.stripe_created.desc(), CachedSubscription.id, CachedSubscriptionItem.id
    )
    .options(
        defer(CachedSubscription.data),
        defer(CachedSubscriptionItem.data),
        defer(CachedPrice.data),
        defer(CachedProduct.data),
        defer(UpcomingInvoice.data),
        defer(CachedSubscriptionSchedule.data),
    )
)

_CARDS = (
    select(CachedPaymentMethod)
    .where(
        CachedPaymentMethod.customer_id.in_(_CUSTOMER_IDS), CachedPaymentMethod.deleted.is_(False)
    )
    .options(defer(CachedPaymentMethod.data))
)

_SHOWN_INVOICE = (
    CachedInvoice.customer_id.in_(_CUSTOMER_IDS),
    CachedInvoice.deleted.is_(False),
    CachedInvoice.status != "draft",
)
_NEWEST_FIRST = (CachedInvoice.stripe_created.desc(), CachedInvoice.id.desc())


def _table_row(invoice) -> tuple:
    """What an invoice table shows of an invoice (app/portal/invoice_rows.py) and whether its
    subscription's collection is paused (the outer-joined CachedSubscription): one made during a
    pause is voided or marked uncollectible by Stripe, not left unpaid by the customer. Plain
    columns: a page of ORM objects cost more to build than the page costs to print."""
    return (
        invoice.stripe_id,
        invoice.customer_id,
        invoice.status,
        invoice.number,
        invoice.total,
        invoice.amount_remaining,
        invoice.currency,
        invoice.stripe_created,
        invoice.due_date,
        invoice.hosted_invoice_url,
        invoice.invoice_pdf,
        CachedSubscription.pause_behavior.is_not(None).label("collection_paused"),
    )


# Each customer's invoices numbered newest first, whole rows, so that the page keeps the first
# few of each without joining back: a join back lets the planner run the window once per
# invoice on a table it has no statistics for yet (25 ms instead of 0.3 for a hundred invoices).
_RANKED_INVOICES = (
    select(
        CachedInvoice,
        func.row_number()
        .over(partition_by=CachedInvoice.customer_id, order_by=_NEWEST_FIRST)
        .label("rank"),
    )
    .where(*_SHOWN_INVOICE)
    .subquery()
)
_RECENT_INVOICE = aliased(CachedInvoice, _RANKED_INVOICES)

_RECENT_INVOICES = (
    select(*_table_row(_RECENT_INVOICE))
    .outerjoin(
        CachedSubscription,
        _same_tenant(CachedSubscription.stripe_id, _RECENT_INVOICE.subscription_id),
    )
    .where(_RANKED_INVOICES.c.rank <= RECENT_INVOICES)
    .order_by(_RECENT_INVOICE.stripe_created.desc(), _RECENT_INVOICE.id.desc())
)

_PAUSE_OF_SUBSCRIPTION = _same_tenant(CachedSubscription.stripe_id, CachedInvoice.subscription_id)

_INVOICES = (
    select(*_table_row(CachedInvoice))
    .outerjoin(CachedSubscription, _PAUSE_OF_SUBSCRIPTION)
    .where(*_SHOWN_INVOICE)
    .order_by(*_NEWEST_FIRST)
    .offset(bindparam("skip"))
    .limit(bindparam("take"))
)
