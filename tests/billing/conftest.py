"""Fixtures of the Stripe cache tests: tenants on emulated accounts, quiet webhooks, faults."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import PLATFORM_STRIPE_KEY
from tests.support.cache_helpers import Shop
from tests.support.stripe_helpers import merchant_client, new_account_id


@pytest.fixture
def connect_shop(make_tenant, stripe_emulator):
    """Factory: connect_shop("acme") makes tenant acme on a fresh emulated Connect account."""

    def make(subdomain: str) -> Shop:
        account = new_account_id()
        tenant = make_tenant(subdomain, stripe_account=account)
        client = merchant_client(stripe_emulator.url, PLATFORM_STRIPE_KEY, account)
        return Shop(tenant.id, account, client)

    return make


@pytest.fixture
def stripe_faults(stripe_emulator):
    """Factory: stripe_faults(status=503, path=..., account=...) until the end of the test."""
    added: list[str] = []

    def add(**fault) -> str:
        fault_id = "test-" + uuid.uuid4().hex[:8]
        stripe_emulator.add_fault(fault_id, **fault)
        added.append(fault_id)
        return fault_id

    yield add
    for fault_id in added:
        stripe_emulator.remove_fault(fault_id)
