"""Connecting the merchant's Stripe account from the dashboard: the three ways in (Billfold's
Stripe App, Stripe Connect, a restricted key), the webhook endpoint a key may need, disconnecting,
and the copy of the account's data that follows a connection (its progress, and trying again).

Every page acts on the signed-in merchant's own tenant (`my_tenant`); no URL names a tenant.
A refused connection rolls the request back before its page is shown: nothing half-written.
"""

from __future__ import annotations

import secrets

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import login_required

from app.billing.models.sync_state import BackfillStatus
from app.billing.tasks import queue_backfill
from app.extensions import db
from app.merchant.blueprint import bp, my_tenant
from app.merchant.forms import ApiKeyForm, ButtonForm, RetryForm, WebhookSecretForm
from app.merchant.golive import go_live_if_ready
from app.merchant.limits import backfill_retry_limits, stripe_check_limits
from app.merchant.roles import is_owner, owner_required
from app.merchant.sync_progress import progress_context, report_for
from app.security import allow_form_redirect_to
from app.stripe_connection import api_key, oauth
from app.stripe_connection.disconnect import disconnect as disconnect_at_stripe
from app.stripe_connection.errors import ConnectionRefused
from app.stripe_connection.webhook_endpoint import EVENTS, endpoint_url
from tenants.models import ConnectionMethod, StripeConnectionStatus, Tenant

# The random value an OAuth state is bound to: made once per dashboard session (signing in
# starts a new session, so a new value), so a state or code carried to another browser is void.
BINDING_KEY = "stripe_oauth_binding"
FLOW_PATH = "<any(connect, stripe_app):flow>"
METHOD_NAMES = {
    ConnectionMethod.STRIPE_APP: "Billfold app from Stripe",
    ConnectionMethod.CONNECT: "Stripe Connect",
    ConnectionMethod.API_KEY: "Restricted key",
}
OAUTH_SETTINGS = {
    oauth.STRIPE_APP: ("STRIPE_APP_CLIENT_ID", "STRIPE_APPS_OAUTH_BASE"),
    oauth.CONNECT: ("STRIPE_CONNECT_CLIENT_ID", "STRIPE_CONNECT_OAUTH_BASE"),
}
RETURN_PAGES = {"home": "merchant.home", "connect": "merchant.connect"}


def _session_binding() -> str:
    if not session.get(BINDING_KEY):
        session[BINDING_KEY] = secrets.token_urlsafe(32)
    return session[BINDING_KEY]


def offered_flows() -> list[str]:
    """The OAuth ways this site is registered for with Stripe (app first: it is recommended)."""
    config = current_app.config
    return [flow for flow, (client_id, _) in OAUTH_SETTINGS.items() if config.get(client_id)]


def is_connected(tenant: Tenant) -> bool:
    return tenant.stripe_status == StripeConnectionStatus.CONNECTED


def _connect_page(tenant: Tenant, key_form: ApiKeyForm | None = None, status: int = 200):
    flows = offered_flows()
    # The OAuth buttons POST here and are answered with a redirect to Stripe's page.
    allow_form_redirect_to(*(current_app.config[OAUTH_SETTINGS[flow][1]] for flow in flows))
    return render_template(
        "merchant/connect.html",
        tenant=None,
        merchant_tenant=tenant,
        connected=is_connected(tenant),
        method_name=METHOD_NAMES.get(tenant.stripe_connection_method or "", "Stripe"),
        flows=flows,
        needed=api_key.NEEDED,
        key_form=key_form or ApiKeyForm(),
        webhook_missing=_webhook_missing(tenant),
        **progress_context(tenant),
    ), status


def _webhook_missing(tenant: Tenant) -> bool:
    return (
        is_connected(tenant)
        and tenant.stripe_connection_method == ConnectionMethod.API_KEY
        and not tenant.stripe_webhook_secret
    )


def _connected(tenant: Tenant) -> None:
    """After any successful connection: copy the account's data (sent once this request
    commits) and open the portal if its owner is verified."""
    queue_backfill(tenant.id)
    go_live_if_ready(tenant)


@bp.get("/connect")
@login_required
@owner_required
def connect():
    return _connect_page(my_tenant())


@bp.post(f"/connect/{FLOW_PATH}/start")
@login_required
@owner_required
@stripe_check_limits
def connect_start(flow: str):
    if flow not in offered_flows():
        abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400, "This form has expired. Go back, reload the page and try again.")
    tenant = my_tenant()
    redirect_uri = url_for("merchant.connect_callback", flow=flow, _external=True)
    try:
        target = oauth.authorize_url(flow, tenant, _session_binding(), redirect_uri)
    except ConnectionRefused as refused:
        return _refused_page(refused)
    return redirect(target, code=303)


@bp.get(f"/connect/{FLOW_PATH}/callback")
@login_required
@owner_required
def connect_callback(flow: str):
    tenant = my_tenant()
    try:
        oauth.connect_with_callback(flow, tenant, request.args, session.get(BINDING_KEY, ""))
    except ConnectionRefused as refused:
        return _refused_page(refused)
    _connected(tenant)
    flash("Your Stripe account is connected. Billfold is copying your billing data now.", "success")
    return redirect(url_for("merchant.connect"))


def _refused_page(refused: ConnectionRefused):
    db.session.rollback()  # whatever the attempt touched: nothing of it is kept
    tenant = my_tenant()
    return render_template(
        "merchant/connect_failed.html",
        tenant=None,
        merchant_tenant=tenant,
        message=refused.message,
    ), 400


@bp.post("/connect/key")
@login_required
@owner_required
@stripe_check_limits
def connect_key():
    tenant = my_tenant()
    form = ApiKeyForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400, "This form has expired. Go back, reload the page and try again.")
        return _connect_page(tenant, form, 400)
    if is_connected(tenant):
        flash("Your Stripe account is already connected. Disconnect it first to use a key.")
        return redirect(url_for("merchant.connect"))
    try:
        connected = api_key.connect_with_api_key(
            tenant, form.key.data, form.webhook_secret.data or None
        )
    except ConnectionRefused as refused:
        db.session.rollback()
        tenant = my_tenant()
        form.key.errors.append(refused.message)
        return _connect_page(tenant, form, 400)
    _connected(tenant)
    if connected.webhook.created:
        flash(
            "Your Stripe account is connected, and Billfold added its webhook endpoint to it. "
            "Billfold is copying your billing data now.",
            "success",
        )
        return redirect(url_for("merchant.connect"))
    flash("Your Stripe account is connected. Billfold is copying your billing data now.", "success")
    return redirect(url_for("merchant.connect_webhook"))


@bp.route("/connect/webhook", methods=["GET", "POST"])
@login_required
@owner_required
def connect_webhook():
    """The endpoint a merchant connected by key adds in their Stripe Dashboard, and its secret."""
    tenant = my_tenant()
    if not is_connected(tenant) or tenant.stripe_connection_method != ConnectionMethod.API_KEY:
        return redirect(url_for("merchant.connect"))
    form = WebhookSecretForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                api_key.save_webhook_secret(tenant, form.webhook_secret.data)
            except ConnectionRefused as refused:
                db.session.rollback()
                tenant = my_tenant()
                form.webhook_secret.errors.append(refused.message)
            else:
                flash("The signing secret is saved: Billfold now hears of every change.", "success")
                return redirect(url_for("merchant.connect"))
        elif form.csrf_token.errors:
            abort(400, "This form has expired. Go back, reload the page and try again.")
        status = 400
    return render_template(
        "merchant/connect_webhook.html",
        tenant=None,
        merchant_tenant=tenant,
        endpoint=endpoint_url(tenant),
        events=EVENTS,
        created=bool(tenant.stripe_created_webhook_endpoint),
        has_secret=bool(tenant.stripe_webhook_secret),
        form=form,
    ), status


@bp.route("/connect/disconnect", methods=["GET", "POST"])
@login_required
@owner_required
def disconnect():
    tenant = my_tenant()
    if not is_connected(tenant):
        return redirect(url_for("merchant.connect"))
    form = ButtonForm()
    error, status = None, 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400, "This form has expired. Go back, reload the page and try again.")
        try:
            notes = disconnect_at_stripe(tenant)
        except ConnectionRefused as refused:
            db.session.rollback()
            tenant = my_tenant()
            error, status = refused.message, 400
        else:
            flash("Your Stripe account is disconnected. Your portal no longer shows billing.")
            for note in notes:
                flash(note, "warning")
            return redirect(url_for("merchant.connect"))
    return render_template(
        "merchant/disconnect.html",
        tenant=None,
        merchant_tenant=tenant,
        method_name=METHOD_NAMES.get(tenant.stripe_connection_method or "", "Stripe"),
        removes_endpoint=bool(tenant.stripe_created_webhook_endpoint),
        form=form,
        error=error,
    ), status


@bp.get("/sync.json")
@login_required
def sync_json():
    """The signed-in merchant's own backfill report, polled by static/js/sync-progress.js."""
    return jsonify(report_for(my_tenant()))


@bp.post("/sync/retry")
@login_required
@backfill_retry_limits
def sync_retry():
    tenant = my_tenant()
    form = RetryForm()
    if not form.validate_on_submit():
        abort(400, "This form has expired. Go back, reload the page and try again.")
    back = url_for(RETURN_PAGES.get(form.next.data or "", "merchant.connect"))
    if not is_owner():
        back = url_for("merchant.home")  # the Stripe page is an owner's
    if not is_connected(tenant):
        flash("Connect your Stripe account first.", "error")
        return redirect(url_for("merchant.connect") if is_owner() else back)
    if report_for(tenant)["status"] in (BackfillStatus.QUEUED, BackfillStatus.RUNNING):
        return redirect(back)  # already under way: a second copy would only wait for it
    queue_backfill(tenant.id)
    flash("Billfold is copying your Stripe data again.", "success")
    return redirect(back)
