"""The sample customer the branding studio's account-page preview shows.

Made up here, in memory: nothing is read from the cache or asked of Stripe, so the preview
shows no real customer and costs nothing. The rows are never added to a session. What the
customer may do (cancel, pay, replace the card) follows the tenant's portal settings, as on the
real page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.billing.models import (
    CachedCustomer,
    CachedInvoice,
    CachedPaymentMethod,
    CachedSubscription,
)
from app.portal.account_data import CustomerView, SubscriptionView
from app.portal.subscription_prices import LineView
from tenants.models import Tenant

SAMPLE_CUSTOMER = "cus_sample"
SAMPLE_EMAIL = "jamie@example.com"
PLAN_PRICE = 2900  # minor units
CURRENCY = "usd"


@dataclass(frozen=True)
class SampleCustomerUser:
    """What the account page reads of the signed-in customer."""

    email: str = SAMPLE_EMAIL
    has_password: bool = False


def _invoice(number: int, days_ago: int, status: str, total: int, now: datetime) -> CachedInvoice:
    invoice = CachedInvoice(
        stripe_id=f"in_sample_{number}",
        number=f"SAMPLE-{number:04d}",
        customer_id=SAMPLE_CUSTOMER,
        subscription_id="sub_sample",
        status=status,
        total=total,
        amount_remaining=total if status == "open" else 0,
        currency=CURRENCY,
        stripe_created=now - timedelta(days=days_ago),
        hosted_invoice_url="#",
        invoice_pdf="#",
    )
    invoice.collection_paused = False
    return invoice


def sample_account(tenant: Tenant) -> list[CustomerView]:
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    customer = CachedCustomer(
        stripe_id=SAMPLE_CUSTOMER,
        email=SAMPLE_EMAIL,
        name="Jamie Rivera",
        has_discount=False,
        default_payment_method_id="pm_sample",
    )
    card = CachedPaymentMethod(
        stripe_id="pm_sample",
        customer_id=SAMPLE_CUSTOMER,
        type="card",
        brand="visa",
        last4="4242",
        exp_month=8,
        exp_year=now.year + 2,
    )
    subscription = CachedSubscription(
        stripe_id="sub_sample",
        customer_id=SAMPLE_CUSTOMER,
        status="active",
        currency=CURRENCY,
        cancel_at_period_end=False,
        cancel_at=None,
        current_period_end=now + timedelta(days=12),
        pause_behavior=None,
        trial_end=None,
        has_discount=False,
        adds_tax=False,
        default_payment_method_id=None,
        schedule_id=None,
    )
    plan = LineView(
        product="Pro plan",
        quantity=1,
        unit_amount=PLAN_PRICE,
        currency=CURRENCY,
        interval="month",
        interval_count=1,
    )
    view = CustomerView(customer=customer, card=card)
    view.subscriptions.append(
        SubscriptionView(
            row=subscription,
            lines=[plan],
            card=card,
            upcoming=None,
            can_cancel=bool(tenant.allow_cancel),
            can_reactivate=False,
        )
    )
    view.invoices = [
        _invoice(3, 2, "open", 1500, now),
        _invoice(2, 18, "paid", PLAN_PRICE, now),
        _invoice(1, 48, "paid", PLAN_PRICE, now),
    ]
    return [view]
