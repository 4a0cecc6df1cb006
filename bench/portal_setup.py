"""The portal benchmark's world: its own database and Redis db, a seeded merchant, gunicorn, login.

Everything listens on 127.0.0.1. The merchant's Stripe account lives in the emulator and reaches
the cache the way a real one does: through the backfill.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import urllib.parse
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path

import psycopg2
import redis
import stripe
from cryptography.fernet import Fernet
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from app.demo.stripe_data import create_paying_customer, create_price, open_invoice

ROOT = Path(__file__).resolve().parents[1]
SUBDOMAIN = "acme"
EMAIL = "ada@example.com"
PLATFORM_KEY = "sk_test_bench_platform"
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class SetupError(RuntimeError):
    """The benchmark's world could not be built as intended."""


def app_env(port: int, database_url: str, redis_url: str, emulator) -> dict[str, str]:
    """Production settings (fresh random secrets), on loopback, against the emulator."""
    return {
        "BILLFOLD_ENV": "production",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "BILLFOLD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PLATFORM_DOMAIN": f"localhost:{port}",
        "PREFERRED_URL_SCHEME": "http",
        "SESSION_COOKIE_SECURE": "false",  # plain HTTP on loopback
        "STRIPE_API_BASE": emulator.url,
        "STRIPE_SECRET_KEY": PLATFORM_KEY,
        "STRIPE_PUBLISHABLE_KEY": "pk_test_bench",
        "STRIPE_JS_URL": emulator.js_url,
    }


def seeded_app(port: int, database_url: str, redis_url: str, emulator):
    """(app, merchant, env): production settings in this process's environment, the database
    rebuilt and Redis flushed, merchant `acme` seeded in the emulator and backfilled."""
    env = app_env(port, database_url, redis_url, emulator)
    os.environ.update(env)
    from app.factory import create_app

    app = create_app()
    logging.getLogger().setLevel(logging.WARNING)
    create_database(database_url)
    reset_database(app, redis_url)
    logging.getLogger().setLevel(logging.WARNING)
    return app, Merchant(app, emulator.url).create(), env


def create_database(database_url: str) -> None:
    """CREATE DATABASE if it does not exist (connecting to the server's `postgres` db)."""
    parts = urllib.parse.urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    connection = psycopg2.connect(admin.replace("postgresql+psycopg2://", "postgresql://"))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()


def reset_database(app, redis_url: str) -> None:
    """A fresh schema from the real migrations, and an empty Redis db (rate-limit counters)."""
    from app.extensions import db

    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade(directory=str(ROOT / "migrations"))
        db.engine.dispose()
    redis.Redis.from_url(redis_url).flushdb()


@dataclass
class Merchant:
    """Tenant `acme` and its emulated Stripe account; ada@example.com is the benchmark's user."""

    app: object
    emulator_url: str
    account: str = field(default_factory=lambda: "acct_bench" + secrets.token_hex(6))
    tenant_id: int | None = None
    client: stripe.StripeClient | None = None
    ada: list = field(default_factory=list)  # ada's Stripe customers
    prices: list = field(default_factory=list)
    invoices_made: int = 0

    def create(self) -> Merchant:
        """One customer with one subscription (so one invoice), plus another email's customer."""
        from app.extensions import db
        from tenants.models import Tenant

        self.client = stripe.StripeClient(
            PLATFORM_KEY, stripe_account=self.account, base_addresses={"api": self.emulator_url}
        )
        with self.app.app_context():
            tenant = Tenant(
                subdomain=SUBDOMAIN,
                name="Acme Rockets",
                sender_name="Acme Rockets Billing",
                support_email="billing@acme.test",
                support_url="https://acme.test/help",
                primary_color="#e11d48",
            )
            tenant.connect_account(self.account)
            db.session.add(tenant)
            db.session.commit()
            self.tenant_id = tenant.id
        self.prices = [
            self._price(2500, "month", "Rocket fuel"),
            self._price(9900, "year", "Launch insurance"),
        ]
        self.ada.append(self._customer(EMAIL.capitalize(), "Ada Lovelace"))
        self._subscribe(self.ada[0], self.prices[0], quantity=2)
        grace = self._customer("grace@example.com", "Grace Hopper")
        self._subscribe(grace, self.prices[0])
        self.backfill()
        return self

    def grow(self, invoices: int) -> None:
        """Ada's second customer (same email), three subscriptions in all, `invoices` invoices."""
        self.ada.append(self._customer(EMAIL, "Ada's workshop"))
        self._subscribe(self.ada[0], self.prices[1])
        self._subscribe(self.ada[1], self.prices[0], quantity=3)
        n = 0
        while self.invoices_made < invoices:
            n += 1
            self._one_off_invoice(self.ada[n % 2], amount=1000 + n, pay=n % 5 != 0)
        self.backfill()

    def backfill(self) -> None:
        from app.billing.backfill import backfill
        from tenants.context import tenant_context
        from tenants.models import Tenant
        from tenants.stripe_client import stripe_client_for

        with self.app.app_context(), tenant_context(self.tenant_id):
            from app.extensions import db

            backfill(stripe_client_for(db.session.get(Tenant, self.tenant_id)))
        # A backfill copies only invoices still to pay; Ada's others reach the cache by her
        # first sign-in's read and by webhooks afterwards. The bench has no webhooks: it copies
        # her whole history now, as both together would leave it.
        self._copy_ada_invoice_history()

    def _copy_ada_invoice_history(self) -> None:
        from app.billing.invoice_history import copy_invoice_history
        from app.billing.models import CachedCustomer
        from app.extensions import db
        from tenants.context import tenant_context
        from tenants.models import Tenant
        from tenants.stripe_client import stripe_client_for

        with self.app.app_context(), tenant_context(self.tenant_id):
            client = stripe_client_for(db.session.get(Tenant, self.tenant_id))
            for customer in db.session.scalars(
                select(CachedCustomer).where(CachedCustomer.email_normalized == EMAIL)
            ):
                copy_invoice_history(client, customer)
            db.session.commit()

    def cached_counts(self) -> tuple[int, int, int]:
        """(customers, subscriptions, invoices) of ada@example.com in the cache."""
        from app.billing.models import CachedCustomer, CachedInvoice, CachedSubscription
        from app.extensions import db
        from tenants.context import tenant_context

        with self.app.app_context(), tenant_context(self.tenant_id):
            ids = db.session.scalars(
                select(CachedCustomer.stripe_id).where(CachedCustomer.email_normalized == EMAIL)
            ).all()

            def count(model) -> int:
                query = select(func.count()).select_from(model)
                return db.session.scalar(query.where(model.customer_id.in_(ids)))

            return len(ids), count(CachedSubscription), count(CachedInvoice)

    # -- Stripe, as the merchant's own dashboard would do it -------------------------------

    def _price(self, amount: int, interval: str, name: str):
        return create_price(self.client, amount=amount, interval=interval, name=name)

    def _customer(self, email: str, name: str):
        return create_paying_customer(self.client, email, name)[0]

    def _subscribe(self, customer, price, quantity: int = 1) -> None:
        items = [{"price": price.id, "quantity": quantity}]
        self.client.v1.subscriptions.create(params={"customer": customer.id, "items": items})
        if customer.id in {c.id for c in self.ada}:
            self.invoices_made += 1  # the emulator bills the first period at once

    def _one_off_invoice(self, customer, amount: int, pay: bool) -> None:
        invoice = open_invoice(self.client, customer.id, amount, description="Kit")
        if pay:
            self.client.v1.invoices.pay(invoice.id)
        self.invoices_made += 1


# -- the real login: ask for a link, read the captured email, confirm ------------------------


def http_get(port: int, host: str, path: str, cookie: str | None = None, form=None):
    """(status, headers, body) of one GET (or a POST of `form`) to 127.0.0.1:port as `host`."""
    connection = HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": host, **({"Cookie": cookie} if cookie else {})}
    try:
        if form is None:
            connection.request("GET", path, headers=headers)
        else:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            connection.request("POST", path, urllib.parse.urlencode(form), headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode()
    finally:
        connection.close()


def _session_cookie(headers, current: str | None) -> str | None:
    for value in headers.get_all("Set-Cookie") or []:
        if value.startswith("session="):
            return value.split(";", 1)[0]
    return current


def _csrf(html: str) -> str:
    match = CSRF_RE.search(html)
    if not match:
        raise SetupError("no CSRF token in the page")
    return match.group(1)


def sign_in(app, port: int, tenant_id: int, email: str = EMAIL) -> str:
    """Sign in by a login link; returns the `session=...` cookie.

    The link is issued in-process, as the login-email task would (no worker or SMTP server is
    part of this benchmark); opening it and confirming it go through gunicorn.
    """
    from app.extensions import db
    from app.portal.tokens import issue_login_token
    from tenants.context import tenant_context

    host = f"{SUBDOMAIN}.localhost:{port}"
    with app.app_context(), tenant_context(tenant_id):
        raw, _code = issue_login_token(email)
        db.session.commit()
    path = f"/login/verify/{raw}"
    status, headers, page = http_get(port, host, path)
    if status != 200:
        raise SetupError(f"opening the login link answered {status}")
    cookie = _session_cookie(headers, None)
    status, headers, _ = http_get(port, host, path, cookie, {"csrf_token": _csrf(page)})
    if status != 302 or not headers.get("Location", "").endswith("/account"):
        raise SetupError(f"confirming the login link answered {status}")
    cookie = _session_cookie(headers, cookie)
    # Follow the redirect as a browser would: its first signed-in page adds the form token to
    # the session. Without this every measured view would mint a token and re-sign the cookie,
    # work a browser only causes once.
    status, headers, _ = http_get(port, host, "/account", cookie)
    if status != 200:
        raise SetupError(f"the account page after signing in answered {status}")
    return _session_cookie(headers, cookie)
