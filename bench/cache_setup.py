"""Set-up for bench/webhooks.py: a fresh schema, a tenant, an emulated account, signed events."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

from bench.harness import PLATFORM_KEY, WEBHOOK_SECRET

ACCOUNT = "acct_billfoldbench01"


def build_app():
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app.extensions import db
    from app.factory import create_app

    app = create_app()
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade(directory=str(Path(__file__).resolve().parents[1] / "migrations"))
    return app


def make_tenant():
    from app.extensions import db
    from tenants.models import Tenant

    tenant = Tenant(subdomain="bench", name="Bench Rockets")
    tenant.connect_account(ACCOUNT)
    db.session.add(tenant)
    db.session.commit()
    return tenant.id


def merchant(emulator_url: str):
    import stripe

    return stripe.StripeClient(
        PLATFORM_KEY, stripe_account=ACCOUNT, base_addresses={"api": emulator_url}
    )


def in_threads(count: int, work, threads: int = 4) -> list:
    """Run work(i) for i in range(count) on a few threads; results in order."""
    results: list = [None] * count
    todo = iter(range(count))
    lock = threading.Lock()

    def run() -> None:
        while True:
            with lock:
                index = next(todo, None)
            if index is None:
                return
            results[index] = work(index)

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results


def seed_account(client, customers: int, subs: int) -> list[str]:
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 1500,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Pro"},
        }
    )
    card = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}

    def customer(i: int) -> str:
        made = client.v1.customers.create(params={"email": f"c{i}@bench.test", "name": f"C {i}"})
        if i < subs:
            method = client.v1.payment_methods.create(params={"type": "card", "card": card})
            client.v1.payment_methods.attach(method.id, params={"customer": made.id})
            client.v1.subscriptions.create(
                params={
                    "customer": made.id,
                    "items": [{"price": price.id}],
                    "default_payment_method": method.id,
                }
            )
        return made.id

    return in_threads(customers, customer)


def event_body(customer_id: str, event_id: str) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "customer.updated",
            "account": ACCOUNT,
            "livemode": False,
            "api_version": "2017-08-15",
            "created": int(time.time()),
            "data": {"object": {"id": customer_id, "object": "customer"}},
        }
    ).encode()


def signed(body: bytes) -> str:
    import hashlib
    import hmac

    ts = int(time.time())
    mac = hmac.new(WEBHOOK_SECRET.encode(), f"{ts}.".encode() + body, hashlib.sha256)
    return f"t={ts},v1={mac.hexdigest()}"


def webhook(host: str, customer_id: str):
    body = event_body(customer_id, "evt_" + uuid.uuid4().hex[:24])
    headers = {"Host": host, "Content-Type": "application/json", "Stripe-Signature": signed(body)}
    return ("POST", "/webhooks/stripe/connect", body, headers)
