"""Seed the demo: the merchant Acme Rockets and its Stripe account (in the emulator)."""

from __future__ import annotations

from datetime import timedelta

import stripe
from werkzeug.security import generate_password_hash

from app.billing.event_log import store_event
from app.billing.models.events import EventStatus, StripeEvent
from app.clock import utcnow
from app.demo.stripe_data import MASTERCARD, create_paying_customer, create_price, open_invoice
from app.extensions import db
from app.merchant.models import MerchantRole, MerchantUser
from app.merchant.passwords import hash_password
from app.ops.models import Operator
from app.portal.models import ActivityKind, PortalActivity
from tenants.context import tenant_context
from tenants.models import Tenant

DEMO_SUBDOMAIN = "acme"
DEMO_ACCOUNT = "acct_demoacmerockets"
# The demo merchant's sign-in to the dashboard; public by design, like everything in the demo.
DEMO_MERCHANT_EMAIL = "merchant@example.com"
DEMO_MERCHANT_PASSWORD = "acme-rockets-demo"  # noqa: S105
# A member of the owner's team: the dashboard without the team and Stripe pages.
DEMO_MEMBER_EMAIL = "member@example.com"
DEMO_MEMBER_PASSWORD = "acme-rockets-member"  # noqa: S105


def seed_demo_tenant() -> Tenant:
    """The demo merchant (created once), connected to the emulated Stripe account."""
    tenant = Tenant.by_subdomain(DEMO_SUBDOMAIN)
    if tenant is None:
        tenant = Tenant(subdomain=DEMO_SUBDOMAIN, name="Acme Rockets")
        db.session.add(tenant)
    tenant.sender_name = "Acme Rockets Billing"
    tenant.support_email = "billing@acme.example"
    tenant.support_url = "https://acme.example/help"
    tenant.primary_color = "#e11d48"
    tenant.accent_color = "#f59e0b"
    tenant.logo_url = "/static/demo/acme-logo.svg"
    tenant.connect_account(DEMO_ACCOUNT)
    db.session.commit()
    return tenant


# The demo operator; its TOTP secret is public like everything in the demo, so that
# `python -m app.demo code` can print the current code (no authenticator app needed).
DEMO_OPERATOR_EMAIL = "ops@example.com"
DEMO_OPERATOR_PASSWORD = "billfold-ops-demo"  # noqa: S105
DEMO_OPERATOR_TOTP_SECRET = "BILLFOLDDEMOOPERATORTOTPSECRET22"  # noqa: S105


def seed_demo_operator() -> Operator:
    """An operator already enrolled in the second factor (created once)."""
    operator = db.session.scalars(
        db.select(Operator).where(Operator.email == DEMO_OPERATOR_EMAIL)
    ).one_or_none()
    if operator is None:
        operator = Operator(
            email=DEMO_OPERATOR_EMAIL,
            password_hash=generate_password_hash(DEMO_OPERATOR_PASSWORD),
            totp_secret=DEMO_OPERATOR_TOTP_SECRET,
            totp_enrolled_at=utcnow(),
        )
        db.session.add(operator)
        db.session.commit()
    return operator


def seed_failed_event(tenant: Tenant) -> None:
    """One Stripe event that failed for good, so the console has something to act on."""
    with tenant_context(tenant.id):
        if db.session.scalar(
            db.select(StripeEvent.id).where(StripeEvent.stripe_id == FAILED_EVENT)
        ):
            return
        stored = store_event(
            tenant,
            {
                "id": FAILED_EVENT,
                "object": "event",
                "type": "customer.updated",
                "created": int(utcnow().timestamp()),
                "livemode": False,
                "data": {"object": {"id": "cus_demo_gone", "object": "customer"}},
            },
        )
        event = db.session.get(StripeEvent, stored.id)
        event.status = EventStatus.FAILED
        event.attempts = 9
        event.last_error = "InvalidRequestError: No such customer: 'cus_demo_gone'"
        db.session.commit()


FAILED_EVENT = "evt_demo_failed_customer_update"


def _demo_user(tenant: Tenant, name: str, email: str, password: str, role: str) -> MerchantUser:
    user = db.session.scalars(
        db.select(MerchantUser).where(MerchantUser.email == email)
    ).one_or_none()
    if user is None:
        user = MerchantUser(
            tenant_id=tenant.id,
            name=name,
            email=email,
            password_hash=hash_password(password),
            role=role,
            email_verified_at=utcnow(),
        )
        db.session.add(user)
        db.session.commit()
    return user


def seed_demo_merchant(tenant: Tenant) -> MerchantUser:
    """Acme Rockets' owner, verified, who signs in to the dashboard, and a member of the
    owner's team (created once). Returns the owner."""
    owner = _demo_user(tenant, "Ada Owner", DEMO_MERCHANT_EMAIL, DEMO_MERCHANT_PASSWORD,
                       MerchantRole.OWNER)  # fmt: skip
    _demo_user(tenant, "Max Member", DEMO_MEMBER_EMAIL, DEMO_MEMBER_PASSWORD, MerchantRole.MEMBER)
    return owner


def seed_stripe_account(client: stripe.StripeClient) -> dict:
    """Products, customers (two share ada@example.com), subscriptions, invoices and cards."""
    pro = create_price(client, 4900, name="Rocket Pro")
    seats = create_price(client, 500, name="Extra launch pads")
    starter = create_price(client, 1900, name="Rocket Starter")
    yearly = create_price(client, 99000, interval="year", name="Mission Control")

    ada, _ = create_paying_customer(client, "ada@example.com", "Ada Lovelace")
    lab, _ = create_paying_customer(client, "ada@example.com", "Ada's Analytical Lab", MASTERCARD)
    grace, _ = create_paying_customer(client, "grace@example.com", "Grace Hopper")

    client.v1.subscriptions.create(
        params={
            "customer": ada.id,
            "items": [{"price": pro.id}, {"price": seats.id, "quantity": 3}],
        }
    )
    client.v1.subscriptions.create(
        params={"customer": lab.id, "items": [{"price": starter.id}], "trial_period_days": 14}
    )
    client.v1.subscriptions.create(params={"customer": grace.id, "items": [{"price": yearly.id}]})
    open_invoice(client, lab.id, 12000, description="Launch consulting (2 hours)")
    open_invoice(client, ada.id, 2500, description="Extra fuel delivery")
    return {"customers": 3, "subscriptions": 3}


def seed_demo_activity(tenant: Tenant) -> None:
    """A few weeks of what the demo's customers did, so the dashboard's Activity page has
    figures to show (created once; only the activity table, never the Stripe cache)."""
    now = utcnow()
    who = ["ada@example.com", "grace@example.com"]
    sources = ["email-footer", "help-center", None, "account-page", "email-footer"]
    rows = [
        PortalActivity(kind=ActivityKind.SIGN_IN, email=who[day % 2], source=sources[day % 5],
                       detail="email", occurred_at=now - timedelta(days=day, hours=day % 7))
        for day in range(0, 28, 1) if day % 4 != 3
    ]  # fmt: skip
    rows += [
        PortalActivity(kind=ActivityKind.PAYMENT, email="ada@example.com", amount=2500,
                       currency="usd", object_id="in_demo_fuel",
                       occurred_at=now - timedelta(days=9)),
        PortalActivity(kind=ActivityKind.CARD_REPLACED, email="ada@example.com",
                       detail="Mastercard ending 4444", occurred_at=now - timedelta(days=6)),
        PortalActivity(kind=ActivityKind.CANCELLATION, email="grace@example.com",
                       reason="Too expensive", comment="Our budget was cut this year.",
                       occurred_at=now - timedelta(days=12)),
        PortalActivity(kind=ActivityKind.REACTIVATION, email="grace@example.com",
                       occurred_at=now - timedelta(days=11)),
    ]  # fmt: skip
    with tenant_context(tenant.id):
        if db.session.scalar(db.select(PortalActivity.id).limit(1)) is None:
            db.session.add_all(rows)
            db.session.commit()
