"""Seed the demo: the merchant Acme Rockets and its Stripe account (in the emulator)."""

from __future__ import annotations

import stripe

from app.clock import utcnow
from app.extensions import db
from app.merchant.models import MerchantRole, MerchantUser
from app.merchant.passwords import hash_password
from tenants.models import Tenant

DEMO_SUBDOMAIN = "acme"
DEMO_ACCOUNT = "acct_demoacmerockets"
CARD = {"exp_month": 12, "exp_year": 2030, "cvc": "123"}
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


def _customer(client: stripe.StripeClient, email: str, name: str, number: str):
    customer = client.v1.customers.create(params={"email": email, "name": name})
    method = client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": number, **CARD}}
    )
    client.v1.payment_methods.attach(method.id, params={"customer": customer.id})
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": method.id}}
    )
    return customer


def _price(client, name: str, amount: int, interval: str = "month"):
    return client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": amount,
            "recurring": {"interval": interval},
            "product_data": {"name": name},
        }
    )


def _open_invoice(client, customer_id: str, amount: int, description: str):
    client.v1.invoice_items.create(
        params={
            "customer": customer_id,
            "amount": amount,
            "currency": "usd",
            "description": description,
        }
    )
    draft = client.v1.invoices.create(
        params={"customer": customer_id, "pending_invoice_items_behavior": "include"}
    )
    return client.v1.invoices.finalize_invoice(draft.id)


def seed_stripe_account(client: stripe.StripeClient) -> dict:
    """Products, customers (two share ada@example.com), subscriptions, invoices and cards."""
    pro = _price(client, "Rocket Pro", 4900)
    seats = _price(client, "Extra launch pads", 500)
    starter = _price(client, "Rocket Starter", 1900)
    yearly = _price(client, "Mission Control", 99000, interval="year")

    ada = _customer(client, "ada@example.com", "Ada Lovelace", "4242424242424242")
    lab = _customer(client, "ada@example.com", "Ada's Analytical Lab", "5555555555554444")
    grace = _customer(client, "grace@example.com", "Grace Hopper", "4242424242424242")

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
    _open_invoice(client, lab.id, 12000, "Launch consulting (2 hours)")
    _open_invoice(client, ada.id, 2500, "Extra fuel delivery")
    return {"customers": 3, "subscriptions": 3}
