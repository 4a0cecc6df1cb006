"""Invoice list filters, finalize and pay, create_preview."""

from __future__ import annotations

import pytest
import stripe

DECLINING_CARD = {"number": "4000000000000341", "exp_month": 12, "exp_year": 2030, "cvc": "123"}


def _draft_invoice(client, customer, amount=500):
    invoice = client.v1.invoices.create(params={"customer": customer.id})
    assert (invoice.status, invoice.amount_due) == ("draft", 0)
    client.v1.invoice_items.create(
        params={"customer": customer.id, "invoice": invoice.id, "amount": amount, "currency": "usd"}
    )
    invoice = client.v1.invoices.retrieve(invoice.id)
    assert (invoice.amount_due, invoice.currency) == (amount, "usd")
    return invoice


def test_pending_items_join_a_new_invoice_only_when_asked(stripe_client, paying_customer):
    customer, _ = paying_customer(stripe_client)
    stripe_client.v1.invoice_items.create(
        params={"customer": customer.id, "amount": 700, "currency": "usd"}
    )

    without = stripe_client.v1.invoices.create(params={"customer": customer.id})
    with_pending = stripe_client.v1.invoices.create(
        params={"customer": customer.id, "pending_invoice_items_behavior": "include"}
    )

    assert (without.amount_due, with_pending.amount_due) == (0, 700)


def test_finalize_then_pay_with_default_method(stripe_client, paying_customer, events_about):
    customer, _ = paying_customer(stripe_client)
    draft = _draft_invoice(stripe_client, customer, 1234)

    finalized = stripe_client.v1.invoices.finalize_invoice(draft.id)
    assert finalized.status == "open"
    assert finalized.status_transitions.finalized_at is not None
    with pytest.raises(stripe.InvalidRequestError, match="already finalized"):
        stripe_client.v1.invoices.finalize_invoice(draft.id)

    paid = stripe_client.v1.invoices.pay(draft.id)
    assert (paid.status, paid.amount_paid) == ("paid", 1234)
    assert events_about(stripe_client, "invoice.finalized", draft.id)
    assert events_about(stripe_client, "invoice.paid", draft.id)
    with pytest.raises(stripe.InvalidRequestError, match="already paid"):
        stripe_client.v1.invoices.pay(draft.id)


def test_pay_uses_the_subscriptions_default_method(stripe_client, monthly_price):
    customer = stripe_client.v1.customers.create(params={"email": "subpm@example.com"})
    method = stripe_client.v1.payment_methods.create(
        params={"type": "card", "card": {**DECLINING_CARD, "number": "4242424242424242"}}
    )
    stripe_client.v1.payment_methods.attach(method.id, params={"customer": customer.id})

    # The customer has no default method: only the subscription's can pay.
    subscription = stripe_client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": monthly_price(stripe_client, 800).id}],
            "default_payment_method": method.id,
        }
    )

    assert subscription.status == "active"
    invoice = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)
    assert (invoice.status, invoice.amount_paid) == ("paid", 800)


def test_declined_payment_answers_402_and_stays_open(stripe_client, paying_customer):
    customer, _ = paying_customer(stripe_client, card=DECLINING_CARD)
    invoice = _draft_invoice(stripe_client, customer)

    with pytest.raises(stripe.CardError) as declined:
        stripe_client.v1.invoices.pay(invoice.id)

    assert declined.value.http_status == 402
    assert declined.value.code == "card_declined"
    assert stripe_client.v1.invoices.retrieve(invoice.id).status == "open"


def test_pay_without_any_payment_method_is_refused(stripe_client):
    customer = stripe_client.v1.customers.create(params={"email": "nopm@example.com"})
    invoice = _draft_invoice(stripe_client, customer)
    with pytest.raises(stripe.InvalidRequestError, match="no attached payment source") as refused:
        stripe_client.v1.invoices.pay(invoice.id)
    assert refused.value.code == "resource_missing"


def test_an_uncollectible_invoice_can_still_be_paid(stripe_client, paying_customer, events_about):
    """uncollectible -> paid through /pay; a failed attempt leaves it uncollectible.
    https://docs.stripe.com/invoicing/integration/workflow-transitions"""
    customer, _ = paying_customer(stripe_client, card=DECLINING_CARD)
    invoice = stripe_client.v1.invoices.finalize_invoice(_draft_invoice(stripe_client, customer).id)
    stripe_client.v1.invoices.mark_uncollectible(invoice.id)
    with pytest.raises(stripe.CardError):
        stripe_client.v1.invoices.pay(invoice.id)
    assert stripe_client.v1.invoices.retrieve(invoice.id).status == "uncollectible"

    card = stripe_client.v1.payment_methods.create(
        params={"type": "card", "card": {**DECLINING_CARD, "number": "4242424242424242"}}
    )
    stripe_client.v1.payment_methods.attach(card.id, params={"customer": customer.id})
    paid = stripe_client.v1.invoices.pay(invoice.id, params={"payment_method": card.id})
    assert paid.status == "paid"
    assert events_about(stripe_client, "invoice.paid", invoice.id)


def test_a_void_invoice_cannot_be_paid(stripe_client, paying_customer):
    """https://docs.stripe.com/invoicing/integration/workflow-transitions"""
    customer, _ = paying_customer(stripe_client)
    invoice = stripe_client.v1.invoices.finalize_invoice(_draft_invoice(stripe_client, customer).id)
    stripe_client.v1.invoices.void_invoice(invoice.id)
    with pytest.raises(stripe.InvalidRequestError, match="status void"):
        stripe_client.v1.invoices.pay(invoice.id)


def test_list_filters_by_status_customer_and_subscription(
    stripe_client, paying_customer, monthly_price
):
    customer, _ = paying_customer(stripe_client)
    draft = _draft_invoice(stripe_client, customer)
    opened = _draft_invoice(stripe_client, customer)
    stripe_client.v1.invoices.finalize_invoice(opened.id)
    paid = _draft_invoice(stripe_client, customer)
    stripe_client.v1.invoices.pay(paid.id)
    voided = _draft_invoice(stripe_client, customer)
    stripe_client.v1.invoices.void_invoice(voided.id)
    written_off = _draft_invoice(stripe_client, customer)
    stripe_client.v1.invoices.finalize_invoice(written_off.id)
    stripe_client.v1.invoices.mark_uncollectible(written_off.id)
    subscription = stripe_client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": monthly_price(stripe_client).id}]}
    )

    def listed(**params):
        result = stripe_client.v1.invoices.list(params={"customer": customer.id, **params})
        return [invoice.id for invoice in result.data]

    assert listed(status="draft") == [draft.id]
    assert listed(status="open") == [opened.id]
    assert listed(status="paid") == [subscription.latest_invoice, paid.id]
    assert listed(status="void") == [voided.id]
    assert listed(status="uncollectible") == [written_off.id]
    assert listed(subscription=subscription.id) == [subscription.latest_invoice]
    assert len(listed()) == 6

    other, _ = paying_customer(stripe_client)
    assert stripe_client.v1.invoices.list(params={"customer": other.id}).data == []
    with pytest.raises(stripe.InvalidRequestError, match="status must be one of"):
        listed(status="pending")


def _preview(client, subscription):
    return client.v1.invoices.create_preview(
        params={"customer": subscription.customer, "subscription": subscription.id}
    )


def test_create_preview_shows_the_next_invoice(stripe_client, paying_customer, monthly_price):
    customer, _ = paying_customer(stripe_client)
    seats, extra = monthly_price(stripe_client, 1200), monthly_price(stripe_client, 300)
    subscription = stripe_client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": seats.id, "quantity": 2}, {"price": extra.id}],
        }
    )

    preview = _preview(stripe_client, subscription)

    assert preview.object == "invoice"
    assert (preview.amount_due, preview.total, preview.currency) == (2700, 2700, "usd")
    assert preview.period_end == subscription.current_period_end
    assert preview.next_payment_attempt == subscription.current_period_end
    assert sorted(line.amount for line in preview.lines.data) == [300, 2400]
    assert preview.lines.data[0].period.start == subscription.current_period_end
    # Previews are not stored invoices.
    listed = stripe_client.v1.invoices.list(params={"subscription": subscription.id})
    assert [invoice.id for invoice in listed.data] == [subscription.latest_invoice]


def test_create_preview_after_a_trial_bills_full_price(
    stripe_client, paying_customer, monthly_price
):
    customer, _ = paying_customer(stripe_client)
    subscription = stripe_client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": monthly_price(stripe_client, 4900).id}],
            "trial_period_days": 7,
        }
    )

    preview = _preview(stripe_client, subscription)

    assert preview.amount_due == 4900
    assert preview.next_payment_attempt == subscription.trial_end


def test_create_preview_keeps_pending_items_pending(stripe_client, paying_customer, monthly_price):
    customer, _ = paying_customer(stripe_client)
    subscription = stripe_client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": monthly_price(stripe_client, 1000).id}],
        }
    )
    stripe_client.v1.invoice_items.create(
        params={"customer": customer.id, "amount": 250, "currency": "usd"}
    )

    assert _preview(stripe_client, subscription).amount_due == 1250
    assert _preview(stripe_client, subscription).amount_due == 1250


def test_no_preview_for_a_subscription_ending_at_period_end(
    stripe_client, paying_customer, monthly_price
):
    customer, _ = paying_customer(stripe_client)
    subscription = stripe_client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": monthly_price(stripe_client).id}]}
    )
    stripe_client.v1.subscriptions.update(subscription.id, params={"cancel_at_period_end": True})

    with pytest.raises(stripe.InvalidRequestError) as none_due:
        _preview(stripe_client, subscription)
    assert none_due.value.code == "invoice_upcoming_none"


def test_finalized_invoices_are_numbered_per_customer(stripe_client, paying_customer):
    """Stripe numbers an invoice when it is finalized; localstripe left `number` empty."""
    customer, _ = paying_customer(stripe_client)
    numbers = []
    for _ in range(2):
        stripe_client.v1.invoice_items.create(
            params={"customer": customer.id, "amount": 500, "currency": "usd"}
        )
        draft = stripe_client.v1.invoices.create(
            params={"customer": customer.id, "pending_invoice_items_behavior": "include"}
        )
        assert draft.number is None
        numbers.append(stripe_client.v1.invoices.finalize_invoice(draft.id).number)
    prefix = numbers[0].split("-")[0]
    assert numbers[1] == f"{prefix}-{int(numbers[0].split('-')[1]) + 1:04d}"


def test_an_incomplete_subscription_takes_a_new_card_and_its_invoice_pays_with_it(
    stripe_client, monthly_price
):
    """An incomplete subscription's default_payment_method can be changed, and its first invoice
    paid with a chosen payment_method makes it active.
    https://docs.stripe.com/billing/subscriptions/overview#subscription-statuses
    https://docs.stripe.com/api/invoices/pay"""
    customer = stripe_client.v1.customers.create(params={"email": "incomplete@example.com"})
    old = stripe_client.v1.payment_methods.create(params={"type": "card", "card": DECLINING_CARD})
    stripe_client.v1.payment_methods.attach(old.id, params={"customer": customer.id})
    subscription = stripe_client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": monthly_price(stripe_client).id}],
            "default_payment_method": old.id,
        }
    )
    assert subscription.status == "incomplete"
    new = stripe_client.v1.payment_methods.create(
        params={"type": "card", "card": {**DECLINING_CARD, "number": "5555555555554444"}}
    )
    stripe_client.v1.payment_methods.attach(new.id, params={"customer": customer.id})
    updated = stripe_client.v1.subscriptions.update(
        subscription.id, params={"default_payment_method": new.id}
    )
    assert updated.default_payment_method == new.id

    paid = stripe_client.v1.invoices.pay(
        subscription.latest_invoice, params={"payment_method": new.id}
    )

    assert paid.status == "paid"
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).status == "active"
