"""Injected faults: chosen calls answer an outage's 503 or a 429, then the emulator recovers."""

from __future__ import annotations

import pytest
import stripe

from stripe_emulator.launcher import EmulatorError


def test_a_rate_limit_for_a_number_of_calls_then_normal_service(
    stripe_emulator, connected_client, new_account_id
):
    account = new_account_id()
    client = connected_client(account)
    stripe_emulator.add_fault("rl", status=429, path="/v1/customers", method="GET", times=2)
    try:
        for _ in range(2):
            with pytest.raises(stripe.RateLimitError):
                client.v1.customers.list()
        client.v1.customers.create(params={"email": "post@example.com"})  # POST: not matched
        assert [c.email for c in client.v1.customers.list().data] == ["post@example.com"]
    finally:
        stripe_emulator.remove_fault("rl")


def test_an_outage_of_one_account_until_removed(stripe_emulator, connected_client, new_account_id):
    down, up = new_account_id(), new_account_id()
    stripe_emulator.add_fault("outage", status=503, account=down)
    try:
        with pytest.raises(stripe.APIError) as failure:
            connected_client(down).v1.customers.list()
        assert failure.value.http_status == 503
        assert failure.value.headers["Stripe-Should-Retry"] == "false"
        connected_client(up).v1.customers.list()  # other accounts are unaffected
    finally:
        stripe_emulator.remove_fault("outage")
    connected_client(down).v1.customers.list()


def test_a_fault_needs_an_error_status(stripe_emulator):
    with pytest.raises(EmulatorError, match="status must be"):
        stripe_emulator.add_fault("bad", status=200)
