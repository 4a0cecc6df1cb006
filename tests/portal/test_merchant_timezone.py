"""Dates in the merchant's timezone, saying which: a renewal near midnight UTC falls on the
merchant's own calendar day. The zone defaults to the Stripe account's
(https://docs.stripe.com/api/accounts/object: settings.dashboard.timezone, country)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.extensions import db
from app.stripe_connection.api_key import connect_with_api_key
from tenants.timezones import timezone_of_account
from tests.connect.test_api_key import ALL
from tests.portal.test_price_lines import card_text
from tests.support.cached_rows import cache, price, subscription
from tests.support.portal_client import sign_in
from tests.support.stripe_helpers import new_account_id

# 20:00 UTC on Jan 10 is already Jan 11 in Auckland (UTC+13 in January).
RENEWS = int(datetime(2027, 1, 10, 20, 0, tzinfo=UTC).timestamp())


def test_dates_are_in_the_merchants_timezone_and_the_page_says_which(portal, merchant, smtp_sink):
    merchant.tenant.timezone = "Pacific/Auckland"
    db.session.commit()
    plan = price(nickname="Night shift", unit_amount=900)
    cache(merchant.tenant.id, plan, subscription(merchant.ada_first.id, [plan],
                                                 current_period_end=RENEWS))  # fmt: skip
    sign_in(portal, smtp_sink, "ada@example.com")

    page = portal.get("/account").text

    assert "$9.00 on Jan 11, 2027" in card_text(page, "Night shift")
    assert "Dates are in Pacific/Auckland time." in page


def test_without_a_timezone_dates_are_in_utc_and_say_so(portal, merchant, smtp_sink):
    plan = price(nickname="Night shift", unit_amount=900)
    cache(merchant.tenant.id, plan, subscription(merchant.ada_first.id, [plan],
                                                 current_period_end=RENEWS))  # fmt: skip
    sign_in(portal, smtp_sink, "ada@example.com")

    page = portal.get("/account").text

    assert "$9.00 on Jan 10, 2027" in card_text(page, "Night shift")
    assert "Dates are in UTC." in page


def test_connecting_a_key_takes_the_accounts_timezone(db_session, make_tenant, stripe_emulator):
    account = new_account_id()
    stripe_emulator.set_account_settings(account, country="DE", timezone="Europe/Berlin")
    tenant = make_tenant("zeit")

    connect_with_api_key(tenant, stripe_emulator.create_key(account, ALL), "whsec_test")

    assert tenant.timezone == "Europe/Berlin"


def test_a_country_with_one_zone_gives_it_and_one_with_several_does_not():
    assert timezone_of_account({"country": "FR", "settings": {"dashboard": {}}}) == "Europe/Paris"
    assert timezone_of_account({"country": "US", "settings": {"dashboard": {}}}) is None
