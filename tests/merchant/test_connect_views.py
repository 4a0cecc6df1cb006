"""Connecting Stripe from the dashboard, through the Flask test client against the emulator:
both OAuth ways, a restricted key and its webhook endpoint, disconnecting, and the progress of
the copy that follows; every refusal shown plainly with nothing written."""

from __future__ import annotations

import urllib.parse

import pytest
from sqlalchemy import select

from app.billing.models.sync_state import BackfillStatus, SyncState
from app.extensions import db
from app.stripe_connection import api_key, disconnect, oauth
from app.stripe_connection.webhook_endpoint import EVENTS
from tenants.context import tenant_context
from tenants.models import ConnectionMethod, StripeConnectionStatus, Tenant
from tests.connect.conftest import consent
from tests.connect.test_api_key import ALL
from tests.merchant.conftest import signed_up_and_verified
from tests.portal.conftest import build_merchant
from tests.support.portal_client import csrf_from, sign_in
from tests.support.stripe_helpers import new_account_id

FLOWS = [oauth.STRIPE_APP, oauth.CONNECT]


def tenant_of(subdomain: str = "acme") -> Tenant:
    tenant = Tenant.by_subdomain(subdomain)
    db.session.refresh(tenant)
    return tenant


def token(client) -> str:
    return csrf_from(client.get("/dashboard/connect").text)


def start(client, flow: str) -> str:
    """Press the connect button; the Stripe page it sends the browser to."""
    answer = client.post(f"/dashboard/connect/{flow}/start", data={"csrf_token": token(client)})
    assert answer.status_code == 303, answer.status_code
    return answer.location


def come_back(client, flow: str, args: dict):
    return client.get(f"/dashboard/connect/{flow}/callback?{urllib.parse.urlencode(args)}")


def connect_by_oauth(client, flow: str, **answer):
    return come_back(client, flow, consent(start(client, flow), **answer))


def submit_key(client, key: str, secret: str = ""):
    return client.post(
        "/dashboard/connect/key",
        data={"csrf_token": token(client), "key": key, "webhook_secret": secret},
    )


def sync_state_of(tenant: Tenant) -> SyncState | None:
    with tenant_context(tenant.id):
        return db.session.scalars(select(SyncState)).one_or_none()


def assert_not_connected(tenant_subdomain: str = "acme") -> None:
    tenant = tenant_of(tenant_subdomain)
    assert tenant.stripe_status == StripeConnectionStatus.NOT_CONNECTED
    assert tenant.stripe_account_id is None and tenant.stripe_api_key is None
    assert not tenant.is_live
    assert sync_state_of(tenant) is None  # no backfill queued


@pytest.fixture
def merchant(platform, smtp_sink):
    signed_up_and_verified(platform, smtp_sink)
    return platform


# -- the page -------------------------------------------------------------------------------


def test_the_page_explains_the_three_ways_and_lists_the_key_permissions(
    merchant, app, stripe_emulator
):  # the emulator sets the Stripe addresses the page's CSP names
    page = merchant.get("/dashboard/connect")
    assert page.status_code == 200
    text = page.text
    assert "Install the Billfold app from Stripe" in text and "Recommended" in text
    assert "Connect with Stripe" in text and "Paste a restricted key" in text
    assert text.index("Install the Billfold app") < text.index("Paste a restricted key")
    for permission in api_key.NEEDED:
        assert f"<td>{permission.resource}</td><td>{permission.level}</td>" in text
    # The OAuth buttons' redirect to Stripe's page is allowed by this page's CSP.
    policy = page.headers["Content-Security-Policy"]
    assert f"form-action 'self' {app.config['STRIPE_API_BASE']}" in policy
    assert merchant.get("/dashboard").status_code == 200  # the checklist links here
    assert 'href="/dashboard/connect"' in merchant.get("/dashboard").text


def test_only_the_configured_oauth_ways_are_offered(merchant, app, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_CONNECT_CLIENT_ID", None)
    page = merchant.get("/dashboard/connect").text
    assert "Install the app on Stripe" in page and "Connect with Stripe" not in page
    csrf = csrf_from(page)
    answer = merchant.post("/dashboard/connect/connect/start", data={"csrf_token": csrf})
    assert answer.status_code == 404
    monkeypatch.setitem(app.config, "STRIPE_APP_CLIENT_ID", "")
    page = merchant.get("/dashboard/connect").text
    assert "Install the Billfold app" not in page and "Paste a restricted key" in page
    nope = merchant.post("/dashboard/connect/nope/start", data={"csrf_token": csrf})
    assert nope.status_code == 404


def test_signed_out_and_customer_sessions_reach_none_of_it(
    db_session, make_tenant, stripe_emulator, smtp_sink, client_for
):
    build_merchant(make_tenant, stripe_emulator)
    portal = client_for("acme")
    sign_in(portal, smtp_sink, "ada@example.com")
    cookie = portal.get_cookie("session", domain="acme.localhost")
    for who in ("nobody", "customer"):
        platform = client_for(None)
        if who == "customer":
            platform.set_cookie("session", cookie.value, domain="localhost")
        for path in (
            "/dashboard/connect",
            "/dashboard/sync.json",
            "/dashboard/connect/webhook",
            "/dashboard/connect/disconnect",
            "/dashboard/connect/stripe_app/callback?state=x&code=ac_x",
        ):
            answer = platform.get(path)
            assert answer.status_code == 302 and "/dashboard/login" in answer.location, path
    # and the dashboard's pages are not served on a tenant's host at all
    assert portal.get("/dashboard/connect").status_code == 404
    assert portal.get("/dashboard/sync.json").status_code == 404


def test_forms_without_their_csrf_token_are_refused(merchant):
    for path, data in (
        ("/dashboard/connect/stripe_app/start", {}),
        ("/dashboard/connect/key", {"key": "rk_test_" + "x" * 20}),
        ("/dashboard/sync/retry", {"next": "home"}),
        ("/dashboard/connect/disconnect", {}),
    ):
        answer = merchant.post(path, data=data)
        assert answer.status_code == 400, path
        assert "This form has expired" in answer.text
    assert_not_connected()


# -- OAuth ----------------------------------------------------------------------------------


@pytest.mark.parametrize("flow", FLOWS)
def test_oauth_connects_copies_the_data_and_opens_the_portal(merchant, flow, app):
    target = start(merchant, flow)
    base = app.config["STRIPE_API_BASE"]
    path = "/oauth/v2/authorize" if flow == oauth.STRIPE_APP else "/oauth/authorize"
    assert target.startswith(base + path)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(target).query))
    assert query["redirect_uri"] == f"http://localhost/dashboard/connect/{flow}/callback"

    answer = come_back(merchant, flow, consent(target))
    assert answer.status_code == 302 and answer.location.endswith("/dashboard/connect")
    tenant = tenant_of()
    assert tenant.stripe_status == StripeConnectionStatus.CONNECTED
    assert tenant.stripe_connection_method == flow
    assert tenant.is_live  # verified owner + Stripe: the portal opened
    report = merchant.get("/dashboard/sync.json").json  # the backfill ran after the commit
    assert report["status"] == "done" and report["percent"] == 100
    customers = next(p for p in report["phases"] if p["name"] == "customer")
    assert customers["done"] == 2  # the emulator seeded the new account with two customers

    page = merchant.get("/dashboard/connect").text
    assert "Your Stripe account is connected" in page  # the flash
    name = "Billfold app from Stripe" if flow == oauth.STRIPE_APP else "Stripe Connect"
    assert name in page and tenant.stripe_account_id in page
    assert "Up to date" in page and "Your Stripe data is copied" in page
    assert "Disconnect" in page and "Paste a restricted key" not in page


def test_deny_shows_a_clear_page_and_changes_nothing(merchant):
    answer = connect_by_oauth(merchant, oauth.STRIPE_APP, decision="deny")
    assert answer.status_code == 400
    assert oauth.DENIED in answer.text and ">Try again</a>" in answer.text
    assert 'href="/dashboard/connect"' in answer.text
    assert_not_connected()


def test_a_state_is_single_use(merchant):
    args = consent(start(merchant, oauth.STRIPE_APP))
    assert come_back(merchant, oauth.STRIPE_APP, args).status_code == 302
    again = come_back(merchant, oauth.STRIPE_APP, args)
    assert again.status_code == 400 and "expired or was already used" in again.text


def test_a_state_from_another_browser_or_flow_is_refused(merchant, client_for, smtp_sink):
    from tests.merchant.conftest import log_in

    args = consent(start(merchant, oauth.STRIPE_APP))
    same_merchant_elsewhere = client_for(None)
    assert log_in(same_merchant_elsewhere).status_code == 302
    refused = come_back(same_merchant_elsewhere, oauth.STRIPE_APP, args)
    assert refused.status_code == 400 and oauth.EXPIRED_STATE in refused.text
    other_flow = come_back(merchant, oauth.CONNECT, args)
    assert other_flow.status_code == 400
    assert come_back(merchant, oauth.STRIPE_APP, {"state": "", "code": "ac_x"}).status_code == 400
    assert come_back(merchant, oauth.STRIPE_APP, {}).status_code == 400
    assert_not_connected()


def test_another_merchants_state_and_code_are_refused(merchant, client_for, smtp_sink):
    other = client_for(None)
    signed_up_and_verified(other, smtp_sink, subdomain="beta", email="b@example.com")
    theirs = consent(start(other, oauth.STRIPE_APP))
    answer = come_back(merchant, oauth.STRIPE_APP, theirs)
    assert answer.status_code == 400 and oauth.EXPIRED_STATE in answer.text
    assert_not_connected()
    # The code was not spent by the refusal: its own merchant still connects with it.
    assert come_back(other, oauth.STRIPE_APP, theirs).status_code == 302
    assert tenant_of("beta").stripe_status == StripeConnectionStatus.CONNECTED
    # A's own state with B's code: the code is spent, Stripe refuses it.
    mine = consent(start(merchant, oauth.STRIPE_APP))
    answer = come_back(merchant, oauth.STRIPE_APP, {**mine, "code": theirs["code"]})
    assert answer.status_code == 400 and oauth.CODE_REFUSED in answer.text
    assert_not_connected()


def test_an_account_connected_elsewhere_is_refused(merchant, client_for, smtp_sink):
    other = client_for(None)
    signed_up_and_verified(other, smtp_sink, subdomain="beta", email="b@example.com")
    assert connect_by_oauth(other, oauth.CONNECT).status_code == 302
    account = tenant_of("beta").stripe_account_id
    answer = connect_by_oauth(merchant, oauth.STRIPE_APP, account=account)
    assert answer.status_code == 400 and "already connected to another Billfold" in answer.text
    assert account not in merchant.get("/dashboard/connect").text
    assert_not_connected()


def test_token_endpoint_down_or_answering_garbage(merchant, stripe_emulator):
    stripe_emulator.answer_garbage(1)
    answer = connect_by_oauth(merchant, oauth.STRIPE_APP)
    assert answer.status_code == 400 and "could not understand" in answer.text
    stripe_emulator.add_fault("token-down", status=503, path="/v1/oauth/token")
    try:
        answer = connect_by_oauth(merchant, oauth.STRIPE_APP)
    finally:
        stripe_emulator.remove_fault("token-down")
    assert answer.status_code == 400 and ">Try again</a>" in answer.text
    assert_not_connected()


# -- a restricted key -----------------------------------------------------------------------


def test_a_key_that_may_add_the_endpoint_connects_in_one_step(merchant, stripe_emulator):
    key = stripe_emulator.create_key(new_account_id(), [*ALL, "webhook_endpoint_write"])
    answer = submit_key(merchant, key)
    assert answer.status_code == 302 and answer.location.endswith("/dashboard/connect")
    tenant = tenant_of()
    assert tenant.stripe_connection_method == ConnectionMethod.API_KEY
    assert tenant.stripe_created_webhook_endpoint.startswith("we_") and tenant.is_live
    page = merchant.get("/dashboard/connect").text
    assert "added its webhook endpoint" in page
    assert key[-4:] in page and key not in page and key[:-4] not in page
    assert merchant.get("/dashboard/sync.json").json["status"] == "done"


def test_a_key_without_the_endpoint_permission_gets_the_address_and_a_secret_form(
    merchant, stripe_emulator
):
    key = stripe_emulator.create_key(new_account_id(), ALL)
    answer = submit_key(merchant, key)
    assert answer.status_code == 302 and answer.location.endswith("/dashboard/connect/webhook")
    tenant = tenant_of()
    page = merchant.get("/dashboard/connect/webhook").text
    assert f'value="http://localhost/webhooks/stripe/{tenant.webhook_endpoint_id}"' in page
    assert "\n".join(EVENTS) in page and 'data-copy="event-list"' in page
    assert "Billfold does not hear of changes" in merchant.get("/dashboard/connect").text

    csrf = csrf_from(page)
    for bad, message in (("", "Paste the endpoint"), ("whsec_", "starts with whsec_")):
        refused = merchant.post(
            "/dashboard/connect/webhook", data={"csrf_token": csrf, "webhook_secret": bad}
        )
        assert refused.status_code == 400 and message in refused.text
        assert 'aria-invalid="true"' in refused.text
    assert tenant_of().stripe_webhook_secret is None
    saved = merchant.post(
        "/dashboard/connect/webhook",
        data={"csrf_token": csrf, "webhook_secret": "whsec_pasted_by_the_merchant"},
    )
    assert saved.status_code == 302
    assert tenant_of().stripe_webhook_secret == "whsec_pasted_by_the_merchant"
    assert "Billfold does not hear of changes" not in merchant.get("/dashboard/connect").text


def test_a_key_with_its_signing_secret_is_saved_with_it(merchant, stripe_emulator):
    key = stripe_emulator.create_key(new_account_id(), [*ALL, "webhook_endpoint_write"])
    answer = submit_key(merchant, key, "whsec_added_by_hand_1234")
    assert answer.status_code == 302 and answer.location.endswith("/dashboard/connect/webhook")
    tenant = tenant_of()
    assert tenant.stripe_webhook_secret == "whsec_added_by_hand_1234"
    assert tenant.stripe_created_webhook_endpoint is None  # the merchant's own endpoint


@pytest.mark.parametrize(
    ("key", "secret", "message"),
    [
        ("", "", "Paste your restricted key"),
        ("pk_test_abcdefghijklmnop", "", "publishable key"),
        ("sk_test_abcdefghijklmnop", "", "full access"),
        ("hello there", "", "does not look like a Stripe restricted key"),
        ("rk_live_abcdefghijklmnop", "", "live key"),
        ("rk_test_" + "x" * 300, "", "longer than any Stripe key"),
        ("rk_test_unknownkey123456", "", "does not recognise this key"),
        ("rk_test_unknownkey123456", "not-a-secret", "starts with whsec_"),
    ],
)
def test_bad_keys_are_named_on_the_form(merchant, key, secret, message):
    answer = submit_key(merchant, key, secret)
    assert answer.status_code == 400
    assert message in answer.text and 'aria-invalid="true"' in answer.text
    if key:
        assert key not in answer.text  # never written back into the page
    assert_not_connected()


def test_a_key_missing_permissions_names_them(merchant, stripe_emulator):
    lacking = [p for p in ALL if p != "invoice_write"] + ["invoice_read"]
    answer = submit_key(merchant, stripe_emulator.create_key(new_account_id(), lacking))
    assert answer.status_code == 400 and "Invoices: Write" in answer.text
    assert_not_connected()


def test_stripe_down_while_checking_a_key(merchant, stripe_emulator):
    key = stripe_emulator.create_key(new_account_id(), ALL)
    stripe_emulator.add_fault("down", status=503, path="/v1/")
    try:
        answer = submit_key(merchant, key)
    finally:
        stripe_emulator.remove_fault("down")
    assert answer.status_code == 400 and "Please try again" in answer.text
    assert_not_connected()


# -- disconnecting --------------------------------------------------------------------------


def test_disconnect_says_what_happens_then_does_it(merchant, stripe_emulator):
    key = stripe_emulator.create_key(new_account_id(), [*ALL, "webhook_endpoint_write"])
    submit_key(merchant, key)
    page = merchant.get("/dashboard/connect/disconnect")
    assert page.status_code == 200
    for words in ("stops showing billing", "forgets the data", "removes the webhook endpoint"):
        assert words in page.text
    answer = merchant.post(
        "/dashboard/connect/disconnect", data={"csrf_token": csrf_from(page.text)}
    )
    assert answer.status_code == 302
    tenant = tenant_of()
    assert tenant.stripe_status == StripeConnectionStatus.DISCONNECTED
    assert tenant.stripe_api_key is None and tenant.stripe_disconnected_reason is None
    after = merchant.get("/dashboard/connect").text
    assert "Your Stripe account is disconnected" in after and "Paste a restricted key" in after
    # Nothing left to disconnect: the page goes back to connecting.
    assert merchant.get("/dashboard/connect/disconnect").status_code == 302


def test_disconnecting_the_app_says_it_stays_installed_in_stripe(merchant):
    connect_by_oauth(merchant, oauth.STRIPE_APP)
    page = merchant.get("/dashboard/connect/disconnect")
    assert "stays installed" in page.text
    merchant.post("/dashboard/connect/disconnect", data={"csrf_token": csrf_from(page.text)})
    after = merchant.get("/dashboard/connect").text
    assert disconnect.APP_STILL_INSTALLED.split(".")[0] in after


def test_disconnect_with_stripe_down_keeps_the_connection(merchant, stripe_emulator):
    key = stripe_emulator.create_key(new_account_id(), [*ALL, "webhook_endpoint_write"])
    submit_key(merchant, key)
    page = merchant.get("/dashboard/connect/disconnect")
    stripe_emulator.add_fault("endpoints-down", status=503, path="/v1/webhook_endpoints")
    try:
        answer = merchant.post(
            "/dashboard/connect/disconnect", data={"csrf_token": csrf_from(page.text)}
        )
    finally:
        stripe_emulator.remove_fault("endpoints-down")
    assert answer.status_code == 400 and "nothing was changed" in answer.text
    assert tenant_of().stripe_status == StripeConnectionStatus.CONNECTED


def test_a_connection_stripe_ended_says_why(merchant):
    connect_by_oauth(merchant, oauth.STRIPE_APP)
    tenant = tenant_of()
    tenant.mark_disconnected("Stripe refused to renew Billfold's access to your account.")
    db.session.commit()
    page = merchant.get("/dashboard/connect").text
    assert "Stripe disconnected your account" in page
    assert "Stripe refused to renew Billfold&#39;s access" in page


# -- the copy's progress --------------------------------------------------------------------


def _set_backfill(tenant: Tenant, status: str, **fields) -> None:
    with tenant_context(tenant.id):
        state = db.session.scalars(select(SyncState)).one()
        state.backfill_status = status
        for name, value in fields.items():
            setattr(state, name, value)
        db.session.commit()


def test_sync_json_is_the_signed_in_merchants_own(merchant, client_for, smtp_sink):
    other = client_for(None)
    signed_up_and_verified(other, smtp_sink, subdomain="beta", email="b@example.com")
    connect_by_oauth(other, oauth.STRIPE_APP)
    assert other.get("/dashboard/sync.json").json["status"] == "done"
    mine = merchant.get("/dashboard/sync.json")
    assert mine.status_code == 200 and mine.json["status"] == "never"
    assert all(phase["done"] == 0 for phase in mine.json["phases"])
    assert merchant.get("/dashboard/sync.json?tenant=beta&tenant_id=2").json["status"] == "never"
    assert sync_state_of(tenant_of()) is None  # reading the report wrote nothing


def test_a_running_copy_shows_its_bars_without_javascript(merchant):
    connect_by_oauth(merchant, oauth.STRIPE_APP)
    progress = {
        "product": {"done": 3, "finished": True},
        "price": {"done": 4, "finished": True},
        "customer": {"done": 250, "finished": True},
        "subscription": {"done": 40},
    }
    from app.clock import utcnow

    _set_backfill(tenant_of(), BackfillStatus.RUNNING, backfill_progress=progress,
                  backfill_started_at=utcnow(), backfill_finished_at=None)  # fmt: skip
    for path in ("/dashboard/connect", "/dashboard"):
        page = merchant.get(path).text
        assert 'data-sync-status="running"' in page and "/static/js/sync-progress.js" in page
        assert "Customers" in page and "250 copied" in page and "40 so far" in page
        assert '<progress aria-labelledby="phase-customer" max="1" value="1">' in page
        assert ">Refresh</a>" in page
    report = merchant.get("/dashboard/sync.json").json
    assert report["status"] == "running"
    assert [p["state"] for p in report["phases"]][:4] == ["done", "done", "done", "running"]


def test_a_failed_copy_shows_the_error_and_tries_again(merchant):
    connect_by_oauth(merchant, oauth.STRIPE_APP)
    _set_backfill(tenant_of(), BackfillStatus.FAILED, backfill_error="APIConnectionError: boom")
    home = merchant.get("/dashboard").text
    assert "stopped before it finished" in home and "APIConnectionError: boom" in home
    assert ">Try again</button>" in home
    answer = merchant.post(
        "/dashboard/sync/retry", data={"csrf_token": csrf_from(home), "next": "home"}
    )
    assert answer.status_code == 302 and answer.location.endswith("/dashboard")
    assert merchant.get("/dashboard/sync.json").json["status"] == "done"
    # Once done, the home page no longer carries the progress; the connect page does.
    assert "data-sync-status" not in merchant.get("/dashboard").text
    assert 'data-sync-status="done"' in merchant.get("/dashboard/connect").text


def test_retry_needs_a_connection_and_goes_back_only_to_its_own_pages(merchant):
    csrf = token(merchant)
    answer = merchant.post("/dashboard/sync/retry", data={"csrf_token": csrf, "next": "home"})
    assert answer.status_code == 302 and answer.location.endswith("/dashboard/connect")
    assert sync_state_of(tenant_of()) is None
    connect_by_oauth(merchant, oauth.STRIPE_APP)
    away = merchant.post(
        "/dashboard/sync/retry", data={"csrf_token": csrf, "next": "https://evil.example/"}
    )
    assert away.status_code == 302 and away.location.endswith("/dashboard/connect")


def test_the_time_left_is_said_in_plain_words(merchant):
    from datetime import timedelta

    from app.clock import utcnow
    from app.merchant.sync_progress import time_left

    assert time_left(None) is None
    assert time_left(20) == "Less than a minute left"
    assert time_left(61) == "About 1 minute left"
    assert time_left(130) == "About 2 minutes left"
    assert time_left(3 * 3600) == "About 3 hours left"
    connect_by_oauth(merchant, oauth.STRIPE_APP)
    progress = {
        "product": {"done": 3, "finished": True},
        "price": {"done": 4, "finished": True},
        "customer": {"done": 20, "finished": True},
        "subscription": {"done": 5},
    }
    _set_backfill(tenant_of(), BackfillStatus.RUNNING, backfill_progress=progress,
                  backfill_started_at=utcnow() - timedelta(minutes=1),
                  backfill_finished_at=None)  # fmt: skip
    report = merchant.get("/dashboard/sync.json").json
    assert report["seconds_left"] and report["percent"] is not None
    page = merchant.get("/dashboard/connect").text
    assert time_left(report["seconds_left"]) in page
    assert f"Copying your Stripe data: {report['percent']}% done." in page
