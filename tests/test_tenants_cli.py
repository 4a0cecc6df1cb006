"""`flask tenants ...`: create, list, set; bad input is one line and a non-zero exit."""

from app.extensions import db
from tenants.models import StripeConnectionStatus, Tenant


def run(app, *args):
    return app.test_cli_runner().invoke(args=["tenants", *args])


def test_create_list_and_set(db_session, app):
    result = run(app, "create", "acme", "--name", "Acme Inc")
    assert result.exit_code == 0, result.output
    assert "created tenant acme" in result.output
    result = run(app, "set", "acme", "--primary-color", "#112233", "--no-allow-cancel",
                 "--stripe-account", "acct_1ABC", "--sender-name", "Acme Billing")  # fmt: skip
    assert result.exit_code == 0, result.output
    tenant = Tenant.by_subdomain("acme")
    assert tenant.primary_color == "#112233"
    assert tenant.allow_cancel is False
    assert tenant.allow_reactivate is True
    assert tenant.stripe_account_id == "acct_1ABC"
    assert tenant.stripe_status == StripeConnectionStatus.CONNECTED
    assert tenant.display_sender == "Acme Billing"
    listing = run(app, "list")
    assert "acme" in listing.output and "stripe=connected" in listing.output


def test_bad_input_is_one_line_and_nonzero(db_session, app):
    assert run(app, "create", "acme", "--name", "A").exit_code == 0
    for args, message in [
        (("create", "acme", "--name", "Again"), "subdomain 'acme' is taken"),
        (("create", "Bad_Name", "--name", "X"), "lowercase letters"),
        (("create", "www", "--name", "X"), "reserved"),
        (("set", "acme", "--primary-color", "red"), "#RRGGBB"),
        (("set", "ghost", "--name", "X"), "no tenant with subdomain 'ghost'"),
    ]:
        result = run(app, *args)
        assert result.exit_code != 0
        assert message in result.output
        assert "Traceback" not in result.output
    db.session.rollback()
    assert db.session.query(Tenant).count() == 1


def test_stripe_mode_follows_the_key(db_session, app, monkeypatch):
    """A live key makes a live tenant (whose live events count); a test key a test tenant."""
    assert run(app, "create", "acme", "--name", "Acme Inc").exit_code == 0
    result = run(app, "set", "acme", "--stripe-api-key", "rk_live_abc",
                 "--stripe-webhook-secret", "whsec_live")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert Tenant.by_subdomain("acme").stripe_livemode is True
    assert run(app, "set", "acme", "--stripe-api-key", "rk_test_abc").exit_code == 0
    assert Tenant.by_subdomain("acme").stripe_livemode is False
    # A Connect account's events come in the platform's mode: its key decides.
    assert run(app, "set", "acme", "--stripe-account", "acct_1TEST").exit_code == 0
    assert Tenant.by_subdomain("acme").stripe_livemode is False
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_live_platform")
    assert run(app, "set", "acme", "--stripe-account", "acct_1LIVE").exit_code == 0
    assert Tenant.by_subdomain("acme").stripe_livemode is True


def test_api_key_tenants_keep_their_webhook_secret_unless_told(db_session, app):
    assert run(app, "create", "keyed", "--name", "Keyed").exit_code == 0
    connected = run(app, "set", "keyed", "--stripe-api-key", "rk_test_1",
                    "--stripe-webhook-secret", "whsec_first")  # fmt: skip
    assert connected.exit_code == 0
    # The address to register in the merchant's own Stripe account.
    endpoint = Tenant.by_subdomain("keyed").webhook_endpoint_id
    assert f"webhook endpoint: http://localhost/webhooks/stripe/{endpoint}" in connected.output
    assert run(app, "set", "keyed", "--stripe-api-key", "rk_test_2").exit_code == 0
    tenant = Tenant.by_subdomain("keyed")
    assert (tenant.stripe_api_key, tenant.stripe_webhook_secret) == ("rk_test_2", "whsec_first")
    assert run(app, "set", "keyed", "--stripe-webhook-secret", "whsec_second").exit_code == 0
    assert Tenant.by_subdomain("keyed").stripe_webhook_secret == "whsec_second"
    assert run(app, "create", "conn", "--name", "Conn").exit_code == 0
    assert run(app, "set", "conn", "--stripe-account", "acct_1CONN").exit_code == 0
    refused = run(app, "set", "conn", "--stripe-webhook-secret", "whsec_x")
    assert refused.exit_code != 0 and "connected by API key" in refused.output


def test_settings_that_reach_email_headers_are_one_line(db_session, app):
    assert run(app, "create", "acme", "--name", "Acme").exit_code == 0
    for args in (("--sender-name", "Acme\nBcc: all@example.com"), ("--primary-color", "#ffffff\n"),
                 ("--support-email", "help@acme.test\r\nX-Injected: 1")):  # fmt: skip
        result = run(app, "set", "acme", *args)
        assert result.exit_code != 0, args
        assert "Traceback" not in result.output
    assert run(app, "create", "beta", "--name", "Beta\nInc").exit_code != 0
    tenant = Tenant.by_subdomain("acme")
    assert tenant.sender_name is None and tenant.support_email is None


def test_support_links_and_addresses_are_plain_web_and_mail_addresses(db_session, app):
    assert run(app, "create", "acme", "--name", "Acme").exit_code == 0
    refused = [
        ("--support-url", "javascript:alert(document.cookie)"),
        ("--support-url", "JavaScript:alert(1)"),
        ("--support-url", "data:text/html,<script>alert(1)</script>"),
        ("--support-url", "https://acme.com@evil.example/help"),  # shows one site, opens another
        ("--support-url", "https://acme.com/help me"),
        ("--support-url", "https://acme.com/he\u2028lp"),
        ("--support-url", "//evil.example/help"),
        ("--support-url", "https:///help"),
        ("--support-email", "help@acme.com?bcc=spy@evil.example"),
        ("--support-email", "Acme Help <help@acme.com>"),
        ("--support-email", "help@acme.com, spy@evil.example"),
        ("--support-email", '"spy@evil.example"@acme.com'),
        ("--support-email", "help\u2028@acme.com"),
        ("--support-email", "help@localhost"),
        ("--support-email", "zoë@acme.com"),  # every email carries it: ASCII before the @
        ("--sender-name", "Acme <billing@paypal.com>"),
        ("--sender-name", "Acme\u2029Bank"),
        ("--name", "Acme\u202eknaB"),  # right-to-left override
        ("--name", "A" * 121),  # longer than the column: a sentence, not a database error
        ("--name", " "),
    ]
    for option, value in refused:
        result = run(app, "set", "acme", option, value)
        assert result.exit_code != 0, (option, value)
        assert "Traceback" not in result.output and "Error:" in result.output, result.output
    tenant = Tenant.by_subdomain("acme")
    assert (tenant.name, tenant.sender_name, tenant.support_email, tenant.support_url) == (
        "Acme",
        None,
        None,
        None,
    )
    assert run(app, "create", "beta", "--name", "Beta", "--support-email", "x@y?bcc=z").exit_code
    assert Tenant.by_subdomain("beta") is None

    accepted = run(app, "set", "acme", "--support-url", "https://acme.com/help?topic=billing#faq",
                   "--support-email", "Help@Bücher.example")  # fmt: skip
    assert accepted.exit_code == 0, accepted.output
    tenant = Tenant.by_subdomain("acme")
    assert tenant.support_url == "https://acme.com/help?topic=billing#faq"
    assert tenant.support_email == "Help@bücher.example"  # the domain normalised, as for logins
    assert run(app, "set", "acme", "--support-url", "").exit_code == 0  # empty clears it
    assert Tenant.by_subdomain("acme").support_url is None
