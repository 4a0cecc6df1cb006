"""Payment methods other than cards: US bank accounts, Link, and legacy cards (sources) seen
through the PaymentMethods API, with the customer.source.* events Stripe sends about them."""

from __future__ import annotations

import pytest
import stripe

from tests.emulator.conftest import TEST_CARD


def test_a_us_bank_account_shows_its_bank_and_last_four(stripe_client):
    """https://docs.stripe.com/api/payment_methods/object#payment_method_object-us_bank_account
    (bank_name, last4, account_type, account_holder_type, routing_number)."""
    customer = stripe_client.v1.customers.create(params={"email": "ach@example.com"})
    method = stripe_client.v1.payment_methods.create(
        params={
            "type": "us_bank_account",
            "us_bank_account": {
                "account_number": "000123456789",
                "routing_number": "110000000",
                "account_holder_type": "individual",
            },
            "billing_details": {"name": "Ada Lovelace"},
        }
    )
    stripe_client.v1.payment_methods.attach(method.id, params={"customer": customer.id})

    fetched = stripe_client.v1.payment_methods.retrieve(method.id)
    assert fetched.type == "us_bank_account"
    details = fetched.us_bank_account
    assert (details.bank_name, details.last4, details.routing_number) == (
        "STRIPE TEST BANK",
        "6789",
        "110000000",
    )
    assert (details.account_type, details.account_holder_type) == ("checking", "individual")
    assert "card" not in fetched


def test_a_link_method_carries_the_customers_link_email(stripe_client):
    """https://docs.stripe.com/api/payment_methods/object#payment_method_object-link (email).
    Stripe makes Link methods in its own UI; the emulator takes billing_details[email]."""
    method = stripe_client.v1.payment_methods.create(
        params={"type": "link", "billing_details": {"email": "ada@example.com"}}
    )
    assert method.type == "link"
    assert method.link.email == "ada@example.com"


def test_an_unknown_type_is_refused_like_stripe(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.payment_methods.create(params={"type": "carrier_pigeon"})
    assert refused.value.http_status == 400


def legacy_card(client, customer_id: str):
    return client.v1.customers.payment_sources.create(
        customer_id, params={"source": {"object": "card", **TEST_CARD}}
    )


def test_a_legacy_card_is_served_by_the_payment_methods_api(stripe_client):
    """Cards attached as sources are compatible with the PaymentMethods API: retrieved by their
    card_ id, shaped as a payment_method, and listed with the customer's payment methods.
    https://docs.stripe.com/payments/payment-methods/transitioning#compatibility"""
    customer = stripe_client.v1.customers.create(params={"email": "old@example.com"})
    card = legacy_card(stripe_client, customer.id)
    assert card.id.startswith("card_")
    assert stripe_client.v1.customers.retrieve(customer.id).default_source == card.id

    method = stripe_client.v1.payment_methods.retrieve(card.id)
    assert (method.object, method.type, method.customer) == ("payment_method", "card", customer.id)
    assert (method.card.brand, method.card.last4, method.card.exp_year) == ("visa", "4242", 2030)

    listed = stripe_client.v1.customers.payment_methods.list(customer.id).data
    assert card.id in [m.id for m in listed]


def test_removing_a_legacy_card_sends_source_deleted_and_moves_the_default(
    stripe_client, events_about
):
    """customer.source.deleted, and customer.updated when default_source changed.
    https://docs.stripe.com/api/events/types#event_types-customer.source.deleted"""
    customer = stripe_client.v1.customers.create(params={"email": "old@example.com"})
    first = legacy_card(stripe_client, customer.id)
    second = legacy_card(stripe_client, customer.id)
    assert events_about(stripe_client, "customer.source.created", second.id)

    stripe_client.v1.customers.payment_sources.delete(customer.id, first.id)

    (deleted,) = events_about(stripe_client, "customer.source.deleted", first.id)
    assert deleted["data"]["object"]["object"] == "card"
    updated = events_about(stripe_client, "customer.updated", customer.id)
    assert updated and updated[0]["data"]["object"]["default_source"] == second.id
    with pytest.raises(stripe.InvalidRequestError) as gone:
        stripe_client.v1.payment_methods.retrieve(first.id)
    assert gone.value.http_status == 404


def test_an_ach_debit_is_processing_until_the_bank_answers(stripe_client, bank_settlement):
    """ACH Direct Debit payments take days to confirm: the PaymentIntent stays processing.
    https://docs.stripe.com/payments/ach-direct-debit (Payment flow)"""
    bank_settlement(3600)
    customer = stripe_client.v1.customers.create(params={"email": "ach@example.com"})
    method = stripe_client.v1.payment_methods.create(
        params={
            "type": "us_bank_account",
            "us_bank_account": {"account_number": "000123456789", "routing_number": "110000000"},
        }
    )
    stripe_client.v1.payment_methods.attach(method.id, params={"customer": customer.id})
    intent = stripe_client.v1.payment_intents.create(
        params={"amount": 2500, "currency": "usd", "customer": customer.id,
                "payment_method": method.id, "confirm": True}
    )  # fmt: skip
    assert intent.status == "processing"
