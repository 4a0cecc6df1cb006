"""Faults and abuse: SMTP down, stale cache, uncached customers, rate limits."""

from sqlalchemy import select

from app.billing.backfill import backfill
from app.billing.models import CachedCustomer, CachedInvoice, CachedSubscription
from app.billing.stripe_health import stripe_health
from app.demo.stripe_data import create_paying_customer
from app.emails.models import DeliveryStatus, EmailDelivery
from app.extensions import db
from tenants.context import tenant_context
from tenants.stripe_client import stripe_client_for
from tests.portal.test_account import action
from tests.support.local_services.processes import free_port
from tests.support.portal_client import (
    csrf_from,
    html_part,
    link_and_code,
    request_link,
    sign_in,
)


def test_smtp_down_login_email_is_retried_and_the_customer_sees_no_error(
    portal, merchant, app, smtp_sink
):
    mail_state = app.extensions["mail"]
    original = mail_state.port
    mail_state.port = free_port()  # nothing listens there
    try:
        response = request_link(portal, "ada@example.com")
    finally:
        mail_state.port = original
    assert response.status_code == 302 and response.location.endswith("/login/check")
    assert portal.get("/login/check").status_code == 200
    with tenant_context(merchant.tenant.id):
        delivery = db.session.scalars(select(EmailDelivery)).one()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 7  # the first try and six retries, one record
    assert "refused" in delivery.error.lower()
    assert smtp_sink.messages == []


def test_an_email_the_mail_library_refuses_is_recorded_failed_at_once(portal, merchant, smtp_sink):
    # A sender name saved before names were checked, with a line break the headers refuse.
    merchant.tenant.sender_name = "Acme\nBcc: everyone@example.com"
    db.session.commit()
    response = request_link(portal, "ada@example.com")
    assert response.status_code == 302  # the customer sees the usual page
    with tenant_context(merchant.tenant.id):
        delivery = db.session.scalars(select(EmailDelivery)).one()
    assert delivery.status == DeliveryStatus.FAILED  # not "queued" forever: no retry comes
    assert delivery.attempts == 1
    assert smtp_sink.messages == []


def test_a_support_address_saved_before_it_was_checked_does_not_stop_the_emails(
    portal, merchant, smtp_sink
):
    # A line separator inside: no Reply-To can carry it, and the login link must still go out.
    merchant.tenant.support_email = "billing\u2028@acme.test"
    db.session.commit()
    request_link(portal, "ada@example.com")
    message = smtp_sink.wait_for("ada@example.com")
    assert message["Reply-To"] is None
    link_and_code(message)
    with tenant_context(merchant.tenant.id):
        delivery = db.session.scalars(select(EmailDelivery)).one()
    assert delivery.status == DeliveryStatus.SENT


def test_paying_an_invoice_paid_elsewhere_says_so_and_heals_the_cache(portal, merchant, smtp_sink):
    sign_in(portal, smtp_sink, "ada@example.com")
    page = portal.get("/invoices")
    merchant.stripe.v1.invoices.pay(merchant.open_invoice.id)  # paid at Stripe, no webhook yet
    response = action(portal, f"/invoices/{merchant.open_invoice.id}/pay", page.text)
    assert response.status_code == 302
    shown = portal.get("/invoices").text
    assert f"Invoice {merchant.open_invoice.number} is already paid" in shown
    db.session.expire_all()
    with tenant_context(merchant.tenant.id):
        invoice = db.session.scalars(
            select(CachedInvoice).where(CachedInvoice.stripe_id == merchant.open_invoice.id)
        ).one()
    assert invoice.status == "paid"


def test_customer_not_cached_yet_is_found_at_stripe(portal, merchant, smtp_sink):
    fresh = merchant.stripe.v1.customers.create(
        params={"email": "Newbie@Example.com", "name": "New Customer"}
    )
    request_link(portal, "newbie@example.com")
    message = smtp_sink.wait_for("newbie@example.com")
    assert "Sign in to Acme Rockets" in html_part(message)
    with tenant_context(merchant.tenant.id):
        cached = db.session.scalars(
            select(CachedCustomer).where(CachedCustomer.stripe_id == fresh.id)
        ).one()
    assert cached.email_normalized == "newbie@example.com"


def test_stripe_failing_midway_through_the_lookup_retries_and_never_says_no_account(
    portal, merchant, smtp_sink, stripe_emulator
):
    fresh, _ = create_paying_customer(merchant.stripe, "late@example.com")
    merchant.stripe.v1.subscriptions.create(
        params={"customer": fresh.id, "items": [{"price": merchant.price.id}]}
    )
    # The search finds the customer; listing its subscriptions then fails once.
    stripe_emulator.add_fault("subs-503", status=503, path="/v1/subscriptions", method="GET",
                              times=1)  # fmt: skip
    try:
        request_link(portal, "late@example.com")
        message = smtp_sink.wait_for("late@example.com")
    finally:
        stripe_emulator.remove_fault("subs-503")
    assert "Sign in to Acme Rockets" in html_part(message)  # not the "no account" note
    assert len(smtp_sink.messages) == 1
    with tenant_context(merchant.tenant.id):
        subscriptions = db.session.scalars(
            select(CachedSubscription).where(CachedSubscription.customer_id == fresh.id)
        ).all()
    assert len(subscriptions) == 1  # the retry copied the whole customer, not half of it


def test_stripe_down_past_every_retry_records_a_failed_delivery_and_sends_nothing(
    portal, merchant, smtp_sink, stripe_emulator
):
    stripe_emulator.add_fault("search-down", status=503, path="/v1/customers/search")
    try:
        response = request_link(portal, "unknown-yet@example.com")  # not cached: Stripe asked
    finally:
        stripe_emulator.remove_fault("search-down")
    assert response.status_code == 302  # the customer sees the usual page
    with tenant_context(merchant.tenant.id):
        delivery = db.session.scalars(select(EmailDelivery)).one()
    assert delivery.status == DeliveryStatus.FAILED
    assert "Stripe unreachable" in delivery.error
    assert smtp_sink.messages == []  # neither a link nor a wrong "no account" note
    assert stripe_health(merchant.tenant.id).failing  # pages say so, from now on


def test_per_email_rate_limit_gives_a_friendly_page_for_any_address(acme_portal, tasks_via_redis):
    for email in ("ada@example.com", "nobody@example.com"):
        statuses = []
        for _ in range(6):
            page = acme_portal.get("/")
            form = {"email": email, "csrf_token": csrf_from(page.text)}
            response = acme_portal.post("/", data=form)
            statuses.append(response.status_code)
        assert statuses == [302] * 5 + [429], (email, statuses)
        assert "Too many attempts" in response.text
        assert "per 10 minute" not in response.text  # no limiter jargon for people


def test_per_ip_rate_limit_across_addresses(acme_portal, tasks_via_redis):
    statuses = []
    for n in range(21):
        page = acme_portal.get("/")
        email = f"person{n}@example.com"
        form = {"email": email, "csrf_token": csrf_from(page.text)}
        statuses.append(acme_portal.post("/", data=form).status_code)
    assert statuses[:20] == [302] * 20 and statuses[20] == 429


def test_password_attempts_are_rate_limited(acme_portal):
    page = acme_portal.get("/login/password")
    statuses = [
        acme_portal.post(
            "/login/password",
            data={
                "email": "ada@example.com",
                "password": f"guess number {n}",
                "csrf_token": csrf_from(page.text),
            },
        ).status_code
        for n in range(11)
    ]
    assert statuses == [400] * 10 + [429]


def card_confirmed_at_stripe(client, customer_id: str | None) -> str:
    """A SetupIntent confirmed with a new card, as Stripe.js leaves it; returns its id."""
    params = {"usage": "off_session", "payment_method_types": ["card"]}
    if customer_id:
        params["customer"] = customer_id
    intent = client.v1.setup_intents.create(params=params)
    card = {"number": "5555555555554444", "exp_month": 4, "exp_year": 2031, "cvc": "123"}
    client.v1.setup_intents.confirm(
        intent.id, params={"payment_method_data": {"type": "card", "card": card}}
    )
    return intent.id


def confirm_card(portal, intent_id: str, customer_id: str):
    """What the card page posts once Stripe.js has confirmed the SetupIntent."""
    page = portal.get(f"/card?customer={customer_id}")
    return portal.post(
        "/card/confirm",
        data={
            "setup_intent": intent_id,
            "customer": customer_id,
            "csrf_token": csrf_from(page.text),
        },
    )


def test_reactivate_is_kept_when_the_next_charge_preview_fails(
    portal, merchant, smtp_sink, stripe_emulator
):
    sign_in(portal, smtp_sink, "ada@example.com")
    sub_id = merchant.subscription.id
    confirm = portal.get(f"/subscriptions/{sub_id}/cancel")
    assert action(portal, f"/subscriptions/{sub_id}/cancel", confirm.text).status_code == 302
    stripe_emulator.add_fault("preview-429", status=429, path="/v1/invoices/create_preview")
    try:
        page = portal.get("/account")
        response = action(portal, f"/subscriptions/{sub_id}/reactivate", page.text)
    finally:
        stripe_emulator.remove_fault("preview-429")
    assert response.status_code == 302
    after = portal.get("/account").text
    assert "Welcome back" in after and "Something went wrong" not in after
    assert merchant.stripe.v1.subscriptions.retrieve(sub_id).cancel_at_period_end is False
    db.session.expire_all()
    with tenant_context(merchant.tenant.id):
        row = db.session.scalars(
            select(CachedSubscription).where(CachedSubscription.stripe_id == sub_id)
        ).one()
    assert row.cancel_at_period_end is False  # the cache records what Stripe did


def test_new_card_is_used_even_when_one_subscription_ended_at_stripe_meanwhile(
    portal, merchant, smtp_sink
):
    sign_in(portal, smtp_sink, "ada@example.com")
    customer_id = merchant.ada_first.id
    ended = merchant.stripe.v1.subscriptions.create(
        params={"customer": customer_id, "items": [{"price": merchant.price.id}]}
    )
    with tenant_context(merchant.tenant.id):
        backfill(stripe_client_for(merchant.tenant))  # cached as active
    merchant.stripe.v1.subscriptions.cancel(ended.id)  # at Stripe; no webhook reaches us
    intent_id = card_confirmed_at_stripe(merchant.stripe, customer_id)
    response = confirm_card(portal, intent_id, customer_id)
    assert response.status_code == 302 and response.location.endswith("/account")
    shown = portal.get("/account").text
    assert "Mastercard ending 4444 is now the card on file" in shown
    assert "could not be moved" not in shown  # the ended one has nothing left to charge
    new_card = merchant.stripe.v1.setup_intents.retrieve(intent_id).payment_method
    remote = merchant.stripe.v1.customers.retrieve(customer_id)
    assert remote.invoice_settings.default_payment_method == new_card
    live = merchant.stripe.v1.subscriptions.retrieve(merchant.subscription.id)
    assert live.default_payment_method == new_card
    db.session.expire_all()
    with tenant_context(merchant.tenant.id):
        cached_customer = db.session.scalars(
            select(CachedCustomer).where(CachedCustomer.stripe_id == customer_id)
        ).one()
        cached_ended = db.session.scalars(
            select(CachedSubscription).where(CachedSubscription.stripe_id == ended.id)
        ).one()
    assert cached_customer.default_payment_method_id == new_card
    assert cached_ended.status == "canceled"  # re-read, so the next try leaves it alone


def test_a_subscription_stripe_fails_to_switch_is_named_and_the_card_is_still_saved(
    portal, merchant, smtp_sink, stripe_emulator
):
    sign_in(portal, smtp_sink, "ada@example.com")
    customer_id, sub_id = merchant.ada_first.id, merchant.subscription.id
    intent_id = card_confirmed_at_stripe(merchant.stripe, customer_id)
    stripe_emulator.add_fault("sub-503", status=503, path=f"/v1/subscriptions/{sub_id}",
                              method="POST", times=1)  # fmt: skip
    try:
        response = confirm_card(portal, intent_id, customer_id)
    finally:
        stripe_emulator.remove_fault("sub-503")
    assert response.status_code == 302 and response.location.endswith("/account")
    shown = portal.get("/account").text
    assert "Mastercard ending 4444 is now the card on file" in shown
    assert "1 of your subscriptions could not be moved" in shown
    new_card = merchant.stripe.v1.setup_intents.retrieve(intent_id).payment_method
    remote = merchant.stripe.v1.customers.retrieve(customer_id)
    assert remote.invoice_settings.default_payment_method == new_card  # saved all the same


def test_setup_intent_without_a_customer_is_refused_plainly(portal, merchant, smtp_sink):
    sign_in(portal, smtp_sink, "ada@example.com")
    intent_id = card_confirmed_at_stripe(merchant.stripe, None)
    customer_id = merchant.ada_first.id
    response = confirm_card(portal, intent_id, customer_id)
    assert response.status_code == 302 and "/card" in response.location
    assert "could not be confirmed" in portal.get(response.location).text


def test_malformed_ids_and_parameters_get_plain_answers_not_500(portal, merchant, smtp_sink, app):
    sign_in(portal, smtp_sink, "ada@example.com")
    for page in ("\u00b2", "9" * 5000, "-1", "0", "abc"):
        assert portal.get("/invoices", query_string={"page": page}).status_code == 200
    sub_id = merchant.subscription.id
    assert portal.get("/subscriptions/sub_%00x/cancel").status_code in (400, 404)
    assert portal.get("/subscriptions/../cancel").status_code == 404
    assert portal.get(f"/subscriptions/{sub_id}%00/cancel").status_code in (400, 404)
    page = portal.get(f"/subscriptions/{sub_id}/cancel")
    with_nul = action(portal, f"/subscriptions/{sub_id}/cancel", page.text, reason="why\x00not")
    assert with_nul.status_code == 400
    assert merchant.stripe.v1.subscriptions.retrieve(sub_id).cancel_at_period_end is False
    platform = app.test_client()
    for path in ("/webhooks/stripe/%00", "/webhooks/stripe/whep_%00", "/webhooks/stripe/x" * 3):
        response = platform.post(path, data=b"{}", headers={"Host": "localhost"})
        assert response.status_code in (400, 404), path


def test_next_after_an_action_never_leaves_the_site(portal, merchant, smtp_sink):
    sign_in(portal, smtp_sink, "ada@example.com")
    page = portal.get("/invoices")
    invoice = merchant.open_invoice.id
    for target in ("//evil.example", "/\\evil.example", "/\t/evil.example", "https://evil.example"):
        response = action(portal, f"/invoices/{invoice}/pay", page.text, next=target)
        assert response.status_code == 302
        assert response.location == "/invoices", (target, response.location)
    ok = action(portal, f"/invoices/{invoice}/pay", page.text, next="/account")
    assert ok.location == "/account"
