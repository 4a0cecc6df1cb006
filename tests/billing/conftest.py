"""Fixtures of the Stripe cache tests: tenants on emulated accounts, quiet webhooks, faults."""

from __future__ import annotations

import uuid

import pytest

from stripe_emulator.launcher import EmulatorError
from tests.conftest import CONNECT_WEBHOOK_SECRET, PLATFORM_STRIPE_KEY
from tests.support.cache_helpers import Shop
from tests.support.stripe_helpers import merchant_client, new_account_id

CONNECT_ENDPOINT_ID = "billfold-connect"  # as registered by the live_server fixture


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
def webhooks_paused(request, stripe_emulator):
    """The emulator delivers no Connect webhooks during the test: every event is 'missed'.

    Tests that commit a connected tenant use this so that only the events they store
    themselves are processed. The endpoint is registered again afterwards.
    """
    try:
        stripe_emulator.unregister_webhook(CONNECT_ENDPOINT_ID)
    except EmulatorError:
        server = None  # the live server has not been started: nothing is delivered anyway
    else:
        server = request.getfixturevalue("live_server")  # running: it registered the endpoint
    yield
    if server is not None:
        stripe_emulator.register_webhook(
            CONNECT_ENDPOINT_ID,
            f"{server.url}/webhooks/stripe/connect",
            CONNECT_WEBHOOK_SECRET,
            connect=True,
        )


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
