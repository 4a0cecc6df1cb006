"""Customer search, listing a customer's payment methods, SetupIntent attach."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest
import stripe

TEST_CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}


def _unique_email(name: str) -> str:
    return f"{name}.{uuid.uuid4().hex[:8]}@Example.com"


def test_search_by_email_is_case_insensitive(stripe_client):
    email = _unique_email("grace")
    customer = stripe_client.v1.customers.create(params={"email": email, "name": "Grace"})
    stripe_client.v1.customers.create(params={"email": _unique_email("someone")})

    for query in (f"email:'{email.upper()}'", f'email:"{email.lower()}"'):
        result = stripe_client.v1.customers.search(params={"query": query})
        assert result.object == "search_result"
        assert [c.id for c in result.data] == [customer.id]
        assert result.has_more is False
        assert result.next_page is None


def test_search_pages_through_matches(stripe_client):
    email = _unique_email("twin")
    ids = {stripe_client.v1.customers.create(params={"email": email}).id for _ in range(3)}

    first = stripe_client.v1.customers.search(params={"query": f"email:'{email}'", "limit": 2})
    assert first.has_more is True and len(first.data) == 2
    second = stripe_client.v1.customers.search(
        params={"query": f"email:'{email}'", "limit": 2, "page": first.next_page}
    )
    assert second.has_more is False
    assert {c.id for c in first.data} | {c.id for c in second.data} == ids


def test_search_by_metadata_and_email(stripe_client):
    email = _unique_email("meta")
    wanted = stripe_client.v1.customers.create(
        params={"email": email, "metadata": {"tenant": "acme"}}
    )
    stripe_client.v1.customers.create(params={"email": email, "metadata": {"tenant": "other"}})

    query = f"email:'{email}' AND metadata['tenant']:'acme'"
    result = stripe_client.v1.customers.search(params={"query": query})
    assert [c.id for c in result.data] == [wanted.id]


def test_search_rejects_unsupported_queries(stripe_client):
    with pytest.raises(stripe.InvalidRequestError, match="Unsupported search query"):
        stripe_client.v1.customers.search(params={"query": "email:'a' OR email:'b'"})


def test_customer_payment_methods_list(stripe_client, paying_customer):
    customer, method = paying_customer(stripe_client)
    other, _ = paying_customer(stripe_client)

    listed = stripe_client.v1.customers.payment_methods.list(customer.id)
    assert listed.object == "list"
    assert [pm.id for pm in listed.data] == [method.id]
    assert listed.data[0].card.last4 == "4242"

    cards = stripe_client.v1.customers.payment_methods.list(customer.id, params={"type": "card"})
    assert [pm.id for pm in cards.data] == [method.id]
    sepa = stripe_client.v1.customers.payment_methods.list(
        customer.id, params={"type": "sepa_debit"}
    )
    assert sepa.data == []

    one = stripe_client.v1.customers.payment_methods.retrieve(customer.id, method.id)
    assert one.id == method.id
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.customers.payment_methods.retrieve(other.id, method.id)


def test_detaching_the_default_method_clears_it(stripe_client, paying_customer):
    customer, method = paying_customer(stripe_client)
    stripe_client.v1.payment_methods.detach(method.id)

    refreshed = stripe_client.v1.customers.retrieve(customer.id)
    assert refreshed.invoice_settings.default_payment_method is None
    assert stripe_client.v1.customers.payment_methods.list(customer.id).data == []


def test_confirmed_setup_intent_attaches_its_card(stripe_client, events_about):
    customer = stripe_client.v1.customers.create(params={"email": _unique_email("setup")})
    method = stripe_client.v1.payment_methods.create(params={"type": "card", "card": TEST_CARD})
    intent = stripe_client.v1.setup_intents.create(
        params={"customer": customer.id, "automatic_payment_methods": {"enabled": True}}
    )
    assert intent.status == "requires_payment_method"

    confirmed = stripe_client.v1.setup_intents.confirm(
        intent.id, params={"payment_method": method.id}
    )

    assert confirmed.status == "succeeded"
    assert confirmed.payment_method == method.id
    assert stripe_client.v1.payment_methods.retrieve(method.id).customer == customer.id
    listed = stripe_client.v1.customers.payment_methods.list(customer.id, params={"type": "card"})
    assert [pm.id for pm in listed.data] == [method.id]
    assert events_about(stripe_client, "setup_intent.succeeded", intent.id)
    assert events_about(stripe_client, "payment_method.attached", method.id)


def test_setup_intent_created_with_confirm_true(stripe_client):
    customer = stripe_client.v1.customers.create(params={"email": _unique_email("confirm")})
    method = stripe_client.v1.payment_methods.create(params={"type": "card", "card": TEST_CARD})

    intent = stripe_client.v1.setup_intents.create(
        params={"customer": customer.id, "payment_method": method.id, "confirm": True}
    )

    assert (intent.status, intent.payment_method) == ("succeeded", method.id)
    assert stripe_client.v1.payment_methods.retrieve(method.id).customer == customer.id


def _confirm_like_fake_stripe_js(emulator_url: str, client_secret: str) -> dict:
    """What localstripe-v3.js's confirmCardSetup sends: publishable key, JSON, no headers."""
    setup_intent_id = client_secret.split("_secret_")[0]
    body = {
        "key": "pk_test_emulator",
        "use_stripe_sdk": True,
        "client_secret": client_secret,
        "payment_method_data": {
            "type": "card",
            "card": {
                "number": "4242424242424242",
                "exp_month": "12",
                "exp_year": "2030",
                "cvc": "123",
            },
            "billing_details": {"address": {"postal_code": "42424"}},
        },
    }
    request = urllib.request.Request(
        f"{emulator_url}/v1/setup_intents/{setup_intent_id}/confirm",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "text/plain;charset=UTF-8"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("account", [None, "acct_jsconfirm"])
def test_fake_stripe_js_confirmation_attaches_card(
    stripe_emulator, stripe_client, connected_client, account
):
    client = connected_client(account) if account else stripe_client
    customer = client.v1.customers.create(params={"email": _unique_email("js")})
    intent = client.v1.setup_intents.create(params={"customer": customer.id})

    answer = _confirm_like_fake_stripe_js(stripe_emulator.url, intent.client_secret)

    assert answer["status"] == "succeeded"
    method = client.v1.payment_methods.retrieve(answer["payment_method"])
    assert method.customer == customer.id
    assert method.card.last4 == "4242"
    assert client.v1.setup_intents.retrieve(intent.id).payment_method == method.id


def test_card_brand_follows_the_number(stripe_client):
    """localstripe called every card "visa"; Stripe reports the network of the number."""
    for number, brand in [
        ("4242424242424242", "visa"),
        ("5555555555554444", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("6011111111111117", "discover"),
    ]:
        method = stripe_client.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": number, "exp_month": 4, "exp_year": 2031, "cvc": "123"},
            }
        )
        assert method.card.brand == brand
