"""Customer actions: pay, cancel, reactivate, replace the card; portal settings enforced here."""

from __future__ import annotations

import re

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.billing import actions
from app.billing.actions import ActionFailed, NeedsAuthentication, PayRefused
from app.billing.invoice_links import PAGE, PDF, LinkUnavailable, current_link
from app.billing.payment_outcome import FAILED
from app.billing.statuses import SubscriptionStatus
from app.portal.account_data import (
    ends_later_than_period,
    open_invoices_of,
    schedule_phases_of,
)
from app.portal.activity import (
    record_cancellation,
    record_card_replaced,
    record_payment,
    record_reactivation,
)
from app.portal.blueprint import (
    bp,
    my_customers,
    owned_customer,
    owned_invoice,
    owned_subscription,
    tenant_zone,
)
from app.portal.formatting import date
from app.portal.forms import ActionForm, CancelForm, CardConfirmForm
from app.portal.limits import invoice_link_limits
from app.portal.payment_notices import payment_notice, refusal_notice
from tenants.stripe_client import StripeNotConnected, stripe_client_for

UNSAFE_NEXT = re.compile(r"^/[/\\]|[\\\x00-\x1f\x7f]")


def _require(setting: bool) -> None:
    if not setting:
        abort(403, description=f"{g.tenant.name} does not offer this in the billing portal.")


def _client():
    try:
        return stripe_client_for(g.tenant)
    except StripeNotConnected:
        raise ActionFailed(
            "Billing changes are not available right now. Nothing was changed."
        ) from None


def _back(default: str = "portal.account"):
    target = request.form.get("next", "")
    # Only a path of our own: never an open redirect. Browsers read "//host", "/\\host" and
    # "/<tab>/host" as another site, so slashes after the first, backslashes and control
    # characters all send the customer to the default page instead.
    if target.startswith("/") and not UNSAFE_NEXT.search(target):
        return redirect(target)
    return redirect(url_for(default))


def _attempt(action, success: str) -> None:
    """Run an action at Stripe and tell the customer how it went, in words."""
    try:
        action()
    except ActionFailed as exc:
        flash(str(exc), "error")
    else:
        flash(success, "success")


def _payment_recorder(invoice):
    """The activity row of a payment, once Stripe says money moved (or is moving)."""
    amount = invoice.amount_remaining or invoice.amount_due  # what this payment is for
    currency, email = invoice.currency, current_user.email

    def record(outcome) -> None:
        if outcome.state != FAILED:
            record_payment(email, invoice.stripe_id, amount, currency)

    return record


def _valid_action_form(form_class=ActionForm):
    form = form_class()
    if not form.validate_on_submit():
        abort(400)
    return form


@bp.post("/invoices/<stripe_id:invoice_id>/pay")
@login_required
def pay_invoice(invoice_id: str):
    _require(g.tenant.allow_invoice_payment)
    invoice = owned_invoice(invoice_id)
    form = _valid_action_form()
    try:
        outcome = actions.pay_invoice(
            _client(), invoice, form.action_key.data, also_record=_payment_recorder(invoice)
        )
    except NeedsAuthentication as asked:
        return _authenticate(invoice, asked.client_secret)
    except PayRefused as refused:
        flash(*refusal_notice(invoice, refused, g.tenant))
    except ActionFailed as exc:
        flash(str(exc), "error")
    else:
        flash(*payment_notice(invoice, outcome, g.tenant))
    return _back("portal.invoices")


def _invoice_link(invoice_id: str, kind: str):
    invoice = owned_invoice(invoice_id)
    try:
        return redirect(current_link(lambda: stripe_client_for(g.tenant), invoice, kind))
    except (LinkUnavailable, StripeNotConnected):
        flash(
            f"Invoice {invoice.number or ''} cannot be opened just now. Please try again in a "
            "few minutes.".replace("  ", " "),
            "error",
        )
        return redirect(url_for("portal.invoices"))


@bp.get("/invoices/<stripe_id:invoice_id>/view")
@login_required
@invoice_link_limits
def invoice_page(invoice_id: str):
    """The invoice's Stripe-hosted page, by a link that still opens (see invoice_links)."""
    return _invoice_link(invoice_id, PAGE)


@bp.get("/invoices/<stripe_id:invoice_id>/pdf")
@login_required
@invoice_link_limits
def invoice_pdf(invoice_id: str):
    return _invoice_link(invoice_id, PDF)


def _authenticate(invoice, client_secret: str):
    """The page where the customer confirms the payment with their bank (Stripe.js)."""
    return render_template(
        "portal/authenticate.html",
        tenant=g.tenant,
        invoice=invoice,
        client_secret=client_secret,
        form=ActionForm(),
    )


@bp.post("/invoices/<stripe_id:invoice_id>/authenticated")
@login_required
def invoice_authenticated(invoice_id: str):
    """Back from the bank's check: read how the payment stands from Stripe, and say so."""
    _require(g.tenant.allow_invoice_payment)
    invoice = owned_invoice(invoice_id)
    _valid_action_form()
    try:
        outcome = actions.payment_outcome(_client(), invoice)
    except ActionFailed as exc:
        flash(str(exc), "error")
    else:
        _payment_recorder(invoice)(outcome)  # confirmed with the bank: committed with its read
        flash(*payment_notice(invoice, outcome, g.tenant))
    return redirect(url_for("portal.invoices"))


@bp.route("/subscriptions/<stripe_id:subscription_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel_subscription(subscription_id: str):
    _require(g.tenant.allow_cancel)
    subscription = owned_subscription(subscription_id)
    if not ends_later_than_period(subscription):
        # Already ending by then: cancelling "at period end" would move its end date later.
        ends = date(subscription.cancel_at, tenant_zone())
        flash(f"This subscription already ends on {ends}.", "success")
        return redirect(url_for("portal.account"))
    form = CancelForm()
    if form.validate_on_submit():
        choice, words = _cancel_reason(form) if g.tenant.ask_cancel_reason else (None, None)
        reason = " — ".join(part for part in (choice, words) if part)[:500] or None
        email = current_user.email
        _attempt(
            lambda: actions.set_cancel_at_period_end(
                _client(),
                subscription,
                True,
                form.action_key.data,
                reason=reason,
                also_record=lambda: record_cancellation(
                    email, subscription.stripe_id, choice, words
                ),
            ),  # fmt: skip
            "Your subscription will end at the close of the current period.",
        )
        return redirect(url_for("portal.account"))
    if form.errors:
        abort(400)
    return render_template(
        "portal/cancel.html",
        tenant=g.tenant,
        subscription=subscription,
        open_invoices=open_invoices_of(subscription.stripe_id),
        schedule_phases=schedule_phases_of(subscription),
        form=form,
    )


def _cancel_reason(form: CancelForm) -> tuple[str | None, str | None]:
    """The reason picked from the merchant's list, and the customer's own words."""
    choice = (form.choice.data or "").strip()
    if choice and choice not in (g.tenant.cancel_reasons or []):
        abort(400)  # not a reason this portal offers: a forged form
    words = (form.reason.data or "").strip()
    return choice or None, words or None


@bp.post("/subscriptions/<stripe_id:subscription_id>/reactivate")
@login_required
def reactivate_subscription(subscription_id: str):
    _require(g.tenant.allow_reactivate)
    subscription = owned_subscription(subscription_id)
    form = _valid_action_form()
    email = current_user.email
    _attempt(
        lambda: actions.set_cancel_at_period_end(
            _client(),
            subscription,
            False,
            form.action_key.data,
            also_record=lambda: record_reactivation(email, subscription.stripe_id),
        ),
        "Welcome back! Your subscription will renew as before.",
    )
    return redirect(url_for("portal.account"))


def _invoice_to_pay(invoice_id: str | None, customer):
    """The customer's own invoice the new card is to pay; None when there is none to pay."""
    if not invoice_id:
        return None
    invoice = owned_invoice(invoice_id)
    if invoice.customer_id != customer.stripe_id:
        abort(404)
    return invoice if invoice.status in actions.PAYABLE_STATUSES else None


@bp.get("/card")
@login_required
def card():
    _require(g.tenant.allow_card_update)
    customers = my_customers()
    chosen = request.args.get("customer")
    customer = owned_customer(chosen) if chosen else (customers[0] if customers else None)
    if customer is None:
        abort(404)
    invoice = _invoice_to_pay(request.args.get("invoice"), customer)
    if not g.tenant.allow_invoice_payment:
        invoice = None
    return render_template(
        "portal/card.html",
        tenant=g.tenant,
        customer=customer,
        invoice=invoice,
        form=CardConfirmForm(
            customer=customer.stripe_id, invoice=invoice.stripe_id if invoice else ""
        ),
        action_key=ActionForm().action_key,
    )


@bp.post("/card/setup-intent")
@login_required
def card_setup_intent():
    """JSON for Stripe.js: a SetupIntent's client secret for one of the user's customers."""
    _require(g.tenant.allow_card_update)
    form = ActionForm()
    customer = owned_customer(request.form.get("customer", ""))
    if not form.validate_on_submit():
        return jsonify(error="This page has expired. Reload it and try again."), 400
    try:
        secret = actions.create_setup_intent(_client(), customer, form.action_key.data)
    except ActionFailed as exc:
        return jsonify(error=str(exc)), 502
    return jsonify(client_secret=secret)


@bp.post("/card/confirm")
@login_required
def card_confirm():
    _require(g.tenant.allow_card_update)
    form = _valid_action_form(CardConfirmForm)
    customer = owned_customer(form.customer.data)
    invoice = _invoice_to_pay(form.invoice.data, customer)
    try:
        replaced = actions.use_confirmed_card(
            _client(),
            customer,
            form.setup_intent.data,
            also_record=lambda card: record_card_replaced(
                current_user.email, customer.stripe_id, card
            ),
        )
    except ActionFailed as exc:
        flash(str(exc), "error")
        return redirect(
            url_for("portal.card", customer=customer.stripe_id, invoice=form.invoice.data or None)
        )
    card = replaced.method.get("card") or {}
    brand, last4 = card.get("brand", "card").title(), card.get("last4", "")
    saved = f"Your {brand} ending {last4} is now the card on file."
    missed = len(replaced.subscriptions_not_switched)
    for resumed in replaced.resumed:
        if resumed.get("status") == SubscriptionStatus.ACTIVE:
            flash("Your paused subscription has resumed: its first payment went through.",
                  "success")  # fmt: skip
        else:
            flash(
                "Your paused subscription has resumed, but its first payment did not go "
                "through: the invoice below is due.",
                "error",
            )
    if replaced.not_resumed:
        flash(
            f"{saved} A paused subscription could not be resumed just now; please try again "
            "in a few minutes.",
            "error",
        )
        return redirect(url_for("portal.account"))
    if missed:
        flash(
            f"{saved} {missed} of your subscriptions could not be moved to it just now and "
            "keep their previous card. Please try again in a few minutes.",
            "error",
        )
    else:
        flash(saved, "success")
    if invoice is not None and g.tenant.allow_invoice_payment:
        _pay_with(invoice, replaced.method["id"], form.setup_intent.data)
        return redirect(url_for("portal.invoices"))
    return redirect(url_for("portal.account"))


def _pay_with(invoice, payment_method: str, nonce: str) -> None:
    """Pay the invoice the card was added for, with that very card; say how it went."""
    try:
        outcome = actions.pay_invoice(
            _client(),
            invoice,
            nonce,
            payment_method=payment_method,
            also_record=_payment_recorder(invoice),
        )
    except PayRefused as refused:
        flash(*refusal_notice(invoice, refused, g.tenant))
    except ActionFailed as exc:
        flash(str(exc), "error")
    else:
        flash(*payment_notice(invoice, outcome, g.tenant))
