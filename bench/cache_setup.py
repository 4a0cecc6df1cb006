"""Set-up for bench/webhooks.py: a fresh schema, a tenant, an emulated account, signed events."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

from app.demo.stripe_data import create_paying_customer, create_price
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
    price = create_price(client, amount=1500, name="Pro")

    def customer(i: int) -> str:
        email, name = f"c{i}@bench.test", f"C {i}"
        if i >= subs:
            return client.v1.customers.create(params={"email": email, "name": name}).id
        made, method = create_paying_customer(client, email, name)
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
