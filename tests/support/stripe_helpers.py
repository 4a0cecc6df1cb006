"""A merchant's client on the Stripe emulator, and waiting for the cache. (The merchant's test
data itself is made by app/demo/stripe_data.py, as the demo and the benchmarks make theirs.)"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import stripe

from app.extensions import db
from tenants.context import tenant_context


def new_account_id() -> str:
    return "acct_" + uuid.uuid4().hex[:16]


def merchant_client(emulator_url: str, platform_key: str, account: str) -> stripe.StripeClient:
    """What the merchant's own dashboard does to its account, through the platform's key."""
    return stripe.StripeClient(
        platform_key, stripe_account=account, base_addresses={"api": emulator_url}
    )


def wait_for(tenant_id: int, check: Callable[[], object], timeout: float = 20.0, what: str = ""):
    """Poll `check` (run as the tenant, on a fresh session) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        db.session.remove()
        with tenant_context(tenant_id):
            last = check()
            if last:
                return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or check}: last={last!r}")
