"""What a signed-in customer sees and does; every page from the cache, actions at Stripe."""

import re
import secrets

import pytest
from sqlalchemy import select

from app.billing.models import CachedCustomer, CachedInvoice, CachedSubscription
from app.demo.stripe_data import open_invoice
from app.extensions import db
from tenants.context import tenant_context
from tenants.stripe_client import stripe_request_count
from tests.portal.conftest import build_merchant, euro_invoice_paid_by_debit
from tests.support.portal_client import csrf_from, sign_in
from tests.support.queries import count_queries


@pytest.fixture
def ada(portal, merchant, smtp_sink):
    """The portal client, signed in as ada@example.com (two Stripe customers)."""
    sign_in(portal, smtp_sink, "ada@example.com")
    return portal


def action(client, path, page_html, **fields):
    """POST a portal action form with the page's CSRF token and a fresh action key."""
    key = fields.pop("action_key", None) or secrets.token_urlsafe(18)
    return client.post(path, data={"csrf_token": csrf_from(page_html), "action_key": key, **fields})


def cached(tenant_id, model, stripe_id):
    db.session.expire_all()
    with tenant_context(tenant_id):
        return db.session.scalars(select(model).where(model.stripe_id == stripe_id)).one()


def test_account_shows_every_customer_with_that_email_and_nothing_else(ada, merchant):
    page = ada.get("/account")
    assert page.status_code == 200
    html = page.text
    assert "Ada Lovelace" in html and "Ada&#39;s workshop" in html
    assert "Grace Hopper" not in html
    assert "Rocket fuel" in html
    assert "$50.00" in html and "per month" in html  # 2 x $25.00
    assert "Next payment" in html and "estimate" in html
    assert "Visa •••• 4242" in html
    assert "Cancel subscription" in html
    assert "Pay $42.00" in html  # the open invoice of the second customer


def test_page_views_make_no_stripe_call_and_constant_queries(ada, merchant, app):
    before = stripe_request_count()
    with count_queries(app) as few:
        assert ada.get("/account").status_code == 200
    with count_queries(app) as few_invoices:
        assert ada.get("/invoices").status_code == 200
    for _ in range(30):  # many more invoices
        open_invoice(merchant.stripe, merchant.ada_first.id, amount=100)
    for collection in ("charge_automatically", "send_invoice", "charge_automatically"):
        # more subscriptions, one billed by invoice: each read from the page's one query
        extra = {"days_until_due": 14} if collection == "send_invoice" else {}
        merchant.stripe.v1.subscriptions.create(
            params={
                "customer": merchant.ada_first.id,
                "items": [{"price": merchant.price.id}],
                "collection_method": collection,
                **extra,
            }
        )
    from app.billing.backfill import backfill
    from tenants.stripe_client import stripe_client_for

    with tenant_context(merchant.tenant.id):
        backfill(stripe_client_for(merchant.tenant))
    before = stripe_request_count()
    with count_queries(app) as many:
        assert ada.get("/account").status_code == 200
    with count_queries(app) as many_invoices:
        assert ada.get("/invoices").status_code == 200
    assert stripe_request_count() == before  # zero Stripe calls for four page views
    assert "due 14 days later" in ada.get("/account").text
    assert len(few) == len(many) <= 8, many
    assert len(few_invoices) == len(many_invoices) <= 8, many_invoices


def test_invoices_are_paginated(ada, merchant):
    for _ in range(21):
        open_invoice(merchant.stripe, merchant.ada_first.id, amount=100)
    from app.billing.backfill import backfill
    from tenants.stripe_client import stripe_client_for

    with tenant_context(merchant.tenant.id):
        backfill(stripe_client_for(merchant.tenant))
    first = ada.get("/invoices")
    assert "Older →" in first.text
    second = ada.get("/invoices?page=2")
    assert "← Newer" in second.text and "Page 2" in second.text
    assert ada.get("/invoices?page=abc").status_code == 200  # bad input: first page


def test_pay_open_invoice_once_even_when_submitted_twice(ada, merchant):
    page = ada.get("/invoices")
    path = f"/invoices/{merchant.open_invoice.id}/pay"
    key = "double-submit-key-0123456789"
    first = action(ada, path, page.text, action_key=key)
    second = action(ada, path, page.text, action_key=key)
    assert first.status_code == second.status_code == 302
    assert cached(merchant.tenant.id, CachedInvoice, merchant.open_invoice.id).status == "paid"
    remote = merchant.stripe.v1.invoices.retrieve(merchant.open_invoice.id)
    assert remote.status == "paid"
    charges = merchant.stripe.v1.charges.list(params={"customer": merchant.ada_second.id}).data
    assert len([c for c in charges if c.amount == 4200]) == 1  # one charge, not two
    shown = ada.get("/invoices")
    assert "Pay $42.00" not in shown.text
    assert "is paid" in ada.get("/account").text or "Paid" in shown.text


def test_a_debit_still_processing_is_not_reported_as_paid(ada, merchant, bank_settlement):
    bank_settlement(3600)  # the bank has not answered while the customer looks
    invoice = euro_invoice_paid_by_debit(merchant, "AT611904300234573201")
    page = ada.get("/invoices")

    answer = action(ada, f"/invoices/{invoice.id}/pay", page.text, next="/invoices")

    shown = ada.get(answer.headers["Location"]).text
    assert "is paid" not in shown
    assert f"Your payment of €25.00 for invoice {invoice.number} is being processed" in shown
    assert "email you" not in shown  # Billfold sends no email when a debit settles
    account = ada.get("/account").text
    assert '<span class="card-brand">SEPA debit</span> •••• 3201' in account
    assert "None" not in account  # no "Card •••• None, Expires 00/None" for a bank account
    assert "can take a few days to show as paid" in shown
    assert cached(merchant.tenant.id, CachedInvoice, invoice.id).status == "open"


def test_a_refused_debit_says_why_and_what_next(ada, merchant, bank_settlement):
    bank_settlement(0)  # the bank's refusal is in Stripe's 200 answer
    invoice = euro_invoice_paid_by_debit(merchant, "AT861904300235473202")
    page = ada.get("/invoices")

    answer = action(ada, f"/invoices/{invoice.id}/pay", page.text, next="/invoices")

    shown = ada.get(answer.headers["Location"]).text
    assert "is paid" not in shown
    assert (
        f"Your payment of €25.00 for invoice {invoice.number} did not go through: "
        "there was not enough money in the account. Nothing was charged." in shown
    )
    card_link = (
        f'<a href="/card?customer={merchant.ada_second.id}&amp;invoice={invoice.id}">'
        "Use a different card</a> to pay it"
    )
    assert card_link in shown
    assert "Pay €25.00" in shown  # still due: the customer can try again
    assert cached(merchant.tenant.id, CachedInvoice, invoice.id).status == "open"
    assert merchant.stripe.v1.invoices.retrieve(invoice.id).status == "open"


def test_a_settled_debit_is_paid(ada, merchant, bank_settlement):
    bank_settlement(0)
    invoice = euro_invoice_paid_by_debit(merchant, "AT611904300234573201")
    page = ada.get("/invoices")

    answer = action(ada, f"/invoices/{invoice.id}/pay", page.text, next="/invoices")

    assert (
        f"Thank you! Invoice {invoice.number} is paid." in ada.get(answer.headers["Location"]).text
    )
    assert cached(merchant.tenant.id, CachedInvoice, invoice.id).status == "paid"


def test_ids_of_other_customers_and_tenants_are_404(ada, merchant, make_tenant, stripe_emulator):
    page = ada.get("/invoices")
    grace_invoice = open_invoice(merchant.stripe, merchant.ada_first.id)  # not yet cached
    other = build_merchant(make_tenant, stripe_emulator, subdomain="beta", name="Beta Boats")
    for path in (
        f"/invoices/{other.open_invoice.id}/pay",
        f"/invoices/{grace_invoice.id}_x/pay",
        f"/subscriptions/{other.subscription.id}/cancel",
        f"/subscriptions/{other.subscription.id}/reactivate",
    ):
        assert action(ada, path, page.text).status_code == 404, path
    assert ada.get(f"/subscriptions/{other.subscription.id}/cancel").status_code == 404
    assert ada.get(f"/card?customer={other.ada_first.id}").status_code == 404
    assert other.stripe.v1.invoices.retrieve(other.open_invoice.id).status == "open"


def test_grace_cannot_touch_adas_invoice(portal, merchant, smtp_sink):
    sign_in(portal, smtp_sink, "grace@example.com")
    page = portal.get("/account")
    assert "Ada" not in page.text
    response = action(portal, f"/invoices/{merchant.open_invoice.id}/pay", page.text)
    assert response.status_code == 404


def test_cancel_with_reason_then_reactivate(ada, merchant):
    sub_id = merchant.subscription.id
    confirm = ada.get(f"/subscriptions/{sub_id}/cancel")
    assert confirm.status_code == 200 and "Cancel at period end" in confirm.text
    done = action(ada, f"/subscriptions/{sub_id}/cancel", confirm.text, reason="Too expensive")
    assert done.status_code == 302
    row = cached(merchant.tenant.id, CachedSubscription, sub_id)
    assert row.cancel_at_period_end is True
    assert row.cancellation_reason == "Too expensive"
    assert merchant.stripe.v1.subscriptions.retrieve(sub_id).cancel_at_period_end is True
    account = ada.get("/account")
    assert "Cancels " in account.text and "Keep my subscription" in account.text
    assert "Next payment" not in account.text.split("Rocket fuel")[1].split("</article>")[0]

    again = action(ada, f"/subscriptions/{sub_id}/reactivate", account.text)
    assert again.status_code == 302
    assert cached(merchant.tenant.id, CachedSubscription, sub_id).cancel_at_period_end is False
    assert merchant.stripe.v1.subscriptions.retrieve(sub_id).cancel_at_period_end is False
    assert "Cancel subscription" in ada.get("/account").text


@pytest.mark.parametrize(
    ("setting", "method", "path_of"),
    [
        ("allow_cancel", "post", lambda m: f"/subscriptions/{m.subscription.id}/cancel"),
        ("allow_cancel", "get", lambda m: f"/subscriptions/{m.subscription.id}/cancel"),
        ("allow_reactivate", "post", lambda m: f"/subscriptions/{m.subscription.id}/reactivate"),
        ("allow_invoice_payment", "post", lambda m: f"/invoices/{m.open_invoice.id}/pay"),
        ("allow_card_update", "get", lambda m: "/card"),
    ],
)
def test_portal_settings_are_enforced_on_the_server(ada, merchant, setting, method, path_of):
    page = ada.get("/account")
    setattr(merchant.tenant, setting, False)
    db.session.commit()
    path = path_of(merchant)
    response = action(ada, path, page.text) if method == "post" else ada.get(path)
    assert response.status_code == 403
    assert "does not offer this" in response.text
    assert (
        merchant.stripe.v1.subscriptions.retrieve(merchant.subscription.id).cancel_at_period_end
        is False
    )
    assert merchant.stripe.v1.invoices.retrieve(merchant.open_invoice.id).status == "open"


def test_hidden_buttons_follow_the_settings(ada, merchant):
    merchant.tenant.allow_cancel = False
    merchant.tenant.allow_invoice_payment = False
    merchant.tenant.allow_card_update = False
    db.session.commit()
    html = ada.get("/account").text
    assert "Cancel subscription" not in html
    assert "Pay $42.00" not in html
    assert "Replace card" not in html


def test_actions_need_csrf(ada, merchant):
    response = ada.post(f"/invoices/{merchant.open_invoice.id}/pay", data={"action_key": "x" * 20})
    assert response.status_code == 400
    assert merchant.stripe.v1.invoices.retrieve(merchant.open_invoice.id).status == "open"


def test_replace_card_checks_the_setup_intent(ada, merchant):
    customer_id = merchant.ada_first.id
    page = ada.get(f"/card?customer={customer_id}")
    assert page.status_code == 200
    key = re.search(r'data-action-key="([^"]+)"', page.text).group(1)
    csrf = re.search(r'data-csrf="([^"]+)"', page.text).group(1)
    response = ada.post(
        "/card/setup-intent",
        data={"customer": customer_id, "action_key": key},
        headers={"X-CSRFToken": csrf},
    )
    assert response.status_code == 200
    secret = response.json["client_secret"]
    intent_id = secret.split("_secret_")[0]
    # What Stripe.js does in the browser: confirm the SetupIntent with the typed card.
    merchant.stripe.v1.setup_intents.confirm(
        intent_id,
        params={
            "payment_method_data": {
                "type": "card",
                "card": {
                    "number": "5555555555554444",
                    "exp_month": 4,
                    "exp_year": 2031,
                    "cvc": "123",
                },
            }
        },
    )
    # The SetupIntent is this customer's: refused for the other customer of the same user.
    wrong = ada.post(
        "/card/confirm",
        data={"setup_intent": intent_id, "customer": merchant.ada_second.id, "csrf_token": csrf},
    )
    assert wrong.status_code == 302 and "/card" in wrong.location
    done = ada.post(
        "/card/confirm",
        data={"setup_intent": intent_id, "customer": customer_id, "csrf_token": csrf},
    )
    assert done.status_code == 302 and done.location.endswith("/account")
    customer = cached(merchant.tenant.id, CachedCustomer, customer_id)
    remote = merchant.stripe.v1.customers.retrieve(customer_id)
    assert customer.default_payment_method_id == remote.invoice_settings.default_payment_method
    subscription = merchant.stripe.v1.subscriptions.retrieve(merchant.subscription.id)
    assert subscription.default_payment_method == customer.default_payment_method_id
    assert "Mastercard •••• 4444" in ada.get("/account").text


def test_stripe_unreachable_pages_still_render_and_actions_fail_cleanly(ada, merchant, app):
    page = ada.get("/account")
    original = app.config["STRIPE_API_BASE"]
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"  # nothing listens there
    try:
        response = action(ada, f"/subscriptions/{merchant.subscription.id}/reactivate", page.text)
        confirm = ada.get(f"/subscriptions/{merchant.subscription.id}/cancel")
        failed = action(ada, f"/subscriptions/{merchant.subscription.id}/cancel", confirm.text)
        assert failed.status_code == 302
        after = ada.get("/account")
        assert after.status_code == 200
        assert "could not reach our payment processor" in after.text
        assert "Billing details may be out of date" in after.text
        assert "Rocket fuel" in after.text  # still served from the cache
    finally:
        app.config["STRIPE_API_BASE"] = original
    assert response.status_code == 302
    row = cached(merchant.tenant.id, CachedSubscription, merchant.subscription.id)
    assert row.cancel_at_period_end is False and row.cancellation_reason is None


def test_the_password_sentence_follows_whether_one_is_set(ada):
    before = ada.get("/account").text
    assert "Set a password</a> to sign in without an email next time" in before
    form = ada.get("/account/password")
    data = {"new_password": "correct horse battery", "csrf_token": csrf_from(form.text)}
    assert ada.post("/account/password", data=data).status_code == 302

    after = ada.get("/account").text
    assert "without an email next time" not in after
    assert "Set a password" not in after
    assert "You can sign in with your password or with an email link." in after
    assert ">Change your password</a>" in after


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/no-such-page", 404), ("GET", "/invoices/in_123/pay", 405)],
)
def test_error_pages_keep_the_portal_navigation_when_signed_in(portal, ada, method, path, status):
    page = ada.open(path, method=method)
    assert page.status_code == status
    assert f"Error {status}" in page.text
    assert '<nav class="site-nav" aria-label="Main">' in page.text
    assert 'href="/invoices"' in page.text and ">Sign out</button>" in page.text
    assert "Back to your account" in page.text
    ada.post("/logout", data={"csrf_token": csrf_from(ada.get("/account").text)})

    signed_out = portal.open(path, method=method)
    assert signed_out.status_code == status
    assert "Sign out" not in signed_out.text and "Go to the start page" in signed_out.text
