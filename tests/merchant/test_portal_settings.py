"""/dashboard/portal: the merchant decides what customers may do; the portal obeys at once,
on the server, and a bad value changes nothing."""

import secrets

import pytest
from sqlalchemy import select

from app.billing.models import CachedSubscription
from app.extensions import db
from tenants.context import tenant_context
from tenants.models import Tenant
from tests.merchant.conftest import log_in, merchant_user_for, post_page_form
from tests.portal.conftest import build_merchant
from tests.support.portal_client import csrf_from, sign_in

EVERYTHING_ON = {
    "allow_cancel": "y",
    "allow_reactivate": "y",
    "allow_card_update": "y",
    "allow_invoice_payment": "y",
    "ask_cancel_reason": "y",
}


@pytest.fixture
def merchant(db_session, make_tenant, stripe_emulator, smtp_sink):
    return build_merchant(make_tenant, stripe_emulator)


@pytest.fixture
def dashboard(client_for, merchant):
    merchant_user_for(merchant.tenant)
    client = client_for(None)
    assert log_in(client).status_code == 302
    return client


@pytest.fixture
def ada(client_for, merchant, smtp_sink):
    portal = client_for(merchant.tenant.subdomain)
    sign_in(portal, smtp_sink, "ada@example.com")
    return portal


def save(dashboard, **fields):
    return post_page_form(dashboard, "/dashboard/portal", {**EVERYTHING_ON, **fields})


def fresh(tenant) -> Tenant:
    db.session.expire_all()
    return db.session.get(Tenant, tenant.id)


def portal_action(client, path, page_html, **fields):
    data = {"csrf_token": csrf_from(page_html), "action_key": secrets.token_urlsafe(18), **fields}
    return client.post(path, data=data)


def test_the_page_needs_a_signed_in_merchant(client_for, db_session):
    response = client_for(None).get("/dashboard/portal")
    assert response.status_code == 302 and "/dashboard/login" in response.location


def test_settings_are_shown_and_saved(dashboard, merchant):
    page = dashboard.get("/dashboard/portal")
    assert page.status_code == 200
    assert 'name="allow_cancel"' in page.text and "Close the portal" in page.text
    fields = {
        **EVERYTHING_ON,
        "cancel_reasons": "Too expensive\n\nMissing a feature\ntoo EXPENSIVE",
    }
    del fields["allow_card_update"]
    response = post_page_form(
        dashboard, "/dashboard/portal", {**fields, "return_url": "https://acme.test/account"}
    )
    assert response.status_code == 302
    tenant = fresh(merchant.tenant)
    assert tenant.allow_card_update is False and tenant.allow_cancel is True
    assert tenant.cancel_reasons == ["Too expensive", "Missing a feature"]  # duplicates dropped
    assert tenant.return_url == "https://acme.test/account"
    again = dashboard.get("/dashboard/portal").text
    assert "Too expensive\nMissing a feature" in again
    assert 'value="https://acme.test/account"' in again


def test_switching_cancel_off_hides_and_refuses_it_at_once(dashboard, ada, merchant):
    sub_id = merchant.subscription.id
    account = ada.get("/account")
    assert "Cancel subscription" in account.text
    fields = {k: v for k, v in EVERYTHING_ON.items() if k != "allow_cancel"}
    assert save(dashboard, **fields, allow_cancel="").status_code == 302
    assert "Cancel subscription" not in ada.get("/account").text
    refused = portal_action(ada, f"/subscriptions/{sub_id}/cancel", account.text)
    assert refused.status_code == 403
    assert merchant.stripe.v1.subscriptions.retrieve(sub_id).cancel_at_period_end is False


def test_offered_reasons_are_asked_and_a_forged_one_is_refused(dashboard, ada, merchant):
    sub_id = merchant.subscription.id
    assert (
        save(dashboard, cancel_reasons="Too expensive\nSwitching to another product").status_code
        == 302
    )
    confirm = ada.get(f"/subscriptions/{sub_id}/cancel")
    assert 'type="radio" name="choice" value="Too expensive"' in confirm.text
    forged = portal_action(ada, f"/subscriptions/{sub_id}/cancel", confirm.text, choice="Other")
    assert forged.status_code == 400
    assert merchant.stripe.v1.subscriptions.retrieve(sub_id).cancel_at_period_end is False
    done = portal_action(
        ada, f"/subscriptions/{sub_id}/cancel", confirm.text, choice="Too expensive",
        reason="Half the price elsewhere",
    )  # fmt: skip
    assert done.status_code == 302
    db.session.expire_all()
    with tenant_context(merchant.tenant.id):
        row = db.session.scalars(
            select(CachedSubscription).where(CachedSubscription.stripe_id == sub_id)
        ).one()
    assert row.cancellation_reason == "Too expensive — Half the price elsewhere"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"return_url": "javascript:alert(1)"}, "Return URL must be a web address"),
        ({"return_url": "https://acme.test@evil.test/"}, "Return URL must be a web address"),
        ({"return_url": "https://acme.test/\nx"}, "Return URL must be one line"),
        ({"cancel_reasons": "x" * 81}, "at most 80 characters"),
        ({"cancel_reasons": "\n".join(f"Reason {n}" for n in range(11))}, "at most 10"),
        ({"closed_message": "Closed\x1b[31m"}, "plain text"),
        ({"timezone": "Mars/Olympus_Mons"}, "is not a timezone name"),
        ({"timezone": "Europe/Paris\nx"}, "is not a timezone name"),
    ],
)
def test_a_bad_value_is_explained_and_nothing_is_stored(dashboard, merchant, fields, message):
    response = save(dashboard, allow_cancel="", **fields)
    assert response.status_code == 400
    assert message in response.text
    tenant = fresh(merchant.tenant)
    assert tenant.allow_cancel is True  # the good fields of the same form were not saved either
    assert tenant.return_url is None and tenant.cancel_reasons is None


def test_the_timezone_chosen_is_the_one_customers_read_dates_in(dashboard, ada, merchant):
    page = dashboard.get("/dashboard/portal").text
    assert '<option value="Pacific/Auckland">Pacific/Auckland (UTC+' in page  # offset shown

    assert save(dashboard, timezone="Pacific/Auckland").status_code == 302

    assert fresh(merchant.tenant).timezone == "Pacific/Auckland"
    assert "Dates are in Pacific/Auckland time." in ada.get("/account").text
    assert save(dashboard, timezone="").status_code == 302
    assert fresh(merchant.tenant).timezone is None
    assert "Dates are in UTC." in ada.get("/account").text


def test_a_timezone_set_outside_the_list_is_kept_when_other_settings_are_saved(dashboard, merchant):
    tenant = fresh(merchant.tenant)
    tenant.timezone = "Etc/GMT+5"  # a valid zone the picker does not list (set from the CLI)
    db.session.commit()

    page = dashboard.get("/dashboard/portal").text
    assert '<option selected value="Etc/GMT+5">' in page

    assert save(dashboard, timezone="Etc/GMT+5").status_code == 302
    assert fresh(merchant.tenant).timezone == "Etc/GMT+5"


def test_a_post_without_csrf_is_refused(dashboard, merchant):
    response = dashboard.post("/dashboard/portal", data={"portal_closed": "y"})
    assert response.status_code == 400
    assert fresh(merchant.tenant).portal_closed is False


def test_the_portal_links_back_to_the_merchant(dashboard, client_for, merchant):
    save(dashboard, return_url="https://acme.test/account")
    login_page = client_for("acme").get("/")
    assert '<a class="back-to-site" href="https://acme.test/account"' in login_page.text
    assert "Back to Acme Rockets" in login_page.text


def test_closing_the_portal_shows_the_message_instead_of_every_page(dashboard, ada, merchant):
    sub_id = merchant.subscription.id
    account = ada.get("/account")
    closed = save(
        dashboard, portal_closed="y", closed_message="Moving to a new system.\n<b>Back soon</b>"
    )
    assert closed.status_code == 302
    for path in ("/", "/account", "/invoices", "/login/password"):
        page = ada.get(path)
        assert page.status_code == 503, path
        assert "Moving to a new system." in page.text and "&lt;b&gt;Back soon" in page.text
        assert "Sign out" not in page.text and 'type="email"' not in page.text
    token = csrf_from(account.text)
    assert ada.post("/", data={"csrf_token": token, "email": "ada@example.com"}).status_code == 503
    refused = portal_action(ada, f"/subscriptions/{sub_id}/cancel", account.text)
    assert refused.status_code == 503
    assert merchant.stripe.v1.subscriptions.retrieve(sub_id).cancel_at_period_end is False
    save(dashboard)  # open again
    assert ada.get("/account").status_code == 200


def test_a_merchant_changes_only_its_own_portal(dashboard, client_for, make_tenant, merchant):
    other = make_tenant("other", name="Other Shop")
    merchant_user_for(other, "other@example.com")
    second = client_for(None)
    assert log_in(second, "other@example.com").status_code == 302
    assert "Other Shop" in second.get("/dashboard/portal").text
    assert save(second, portal_closed="y", allow_cancel="").status_code == 302
    assert fresh(other).portal_closed is True
    assert fresh(merchant.tenant).portal_closed is False
    assert fresh(merchant.tenant).allow_cancel is True
    assert client_for("acme").get("/").status_code == 200
