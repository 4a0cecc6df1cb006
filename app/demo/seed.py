"""Seed the demo: the merchant Acme Rockets and its Stripe account (in the emulator)."""

from __future__ import annotations

import stripe

from app.clock import utcnow
from app.demo.stripe_data import MASTERCARD, create_paying_customer, create_price, open_invoice
from app.extensions import db
from app.merchant.models import MerchantRole, MerchantUser
from app.merchant.passwords import hash_password
from tenants.models import Tenant

DEMO_SUBDOMAIN = "acme"
DEMO_ACCOUNT = "acct_demoacmerockets"
# The demo merchant's sign-in to the dashboard; public by design, like everything in the demo.
DEMO_MERCHANT_EMAIL = "merchant@example.com"
DEMO_MERCHANT_PASSWORD = "acme-rockets-demo"  # noqa: S105


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


def seed_demo_merchant(tenant: Tenant) -> MerchantUser:
    """Acme Rockets' owner, verified, who signs in to the dashboard (created once)."""
    user = db.session.scalars(
        db.select(MerchantUser).where(MerchantUser.email == DEMO_MERCHANT_EMAIL)
    ).one_or_none()
    if user is None:
        user = MerchantUser(
            tenant_id=tenant.id,
            name="Ada Owner",
            email=DEMO_MERCHANT_EMAIL,
            password_hash=hash_password(DEMO_MERCHANT_PASSWORD),
            role=MerchantRole.OWNER,
            email_verified_at=utcnow(),
        )
        db.session.add(user)
        db.session.commit()
    return user


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
