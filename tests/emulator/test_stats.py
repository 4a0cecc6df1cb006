"""Request counts: every API call the emulator receives, in total and per connected account."""

from __future__ import annotations

import json
import urllib.request

import pytest
import stripe


def test_counts_api_calls_per_account_and_in_total(
    stripe_emulator, stripe_client, connected_client, new_account_id
):
    account, other = new_account_id(), new_account_id()
    total = stripe_emulator.api_request_count()
    platform = stripe_emulator.api_request_count("platform")

    client = connected_client(account)
    customer = client.v1.customers.create(params={"email": "count@example.com"})
    client.v1.customers.retrieve(customer.id)
    stripe_client.v1.customers.list()

    assert stripe_emulator.api_request_count(account) == 2
    assert stripe_emulator.api_request_count(other) == 0
    assert stripe_emulator.api_request_count("platform") == platform + 1
    assert stripe_emulator.api_request_count() == total + 3  # reading stats is not counted


def test_failed_calls_count_too(stripe_emulator, connected_client, new_account_id):
    account = new_account_id()
    stripe_emulator.add_fault("stats-outage", status=503, account=account)
    try:
        with pytest.raises(stripe.APIError):
            connected_client(account).v1.customers.list()
    finally:
        stripe_emulator.remove_fault("stats-outage")
    with urllib.request.urlopen(f"{stripe_emulator.url}/_config/stats", timeout=5) as response:
        stats = json.load(response)
    assert stats["by_account"][account] == 1
    assert stats["api_requests"] >= 1


def test_counts_each_accounts_requests_per_second(
    stripe_emulator, connected_client, new_account_id
):
    account, other = new_account_id(), new_account_id()
    client = connected_client(account)
    for _ in range(5):
        client.v1.customers.list()
    connected_client(other).v1.customers.list()

    per_second = stripe_emulator.api_requests_per_second(account)
    assert sum(per_second.values()) == 5
    assert all(isinstance(second, int) and second > 1_700_000_000 for second in per_second)
    assert sum(stripe_emulator.api_requests_per_second(other).values()) == 1
    assert stripe_emulator.api_requests_per_second(new_account_id()) == {}
