"""Signing in by email link, by code and by password; the rules that keep it safe."""

import re
import time

from sqlalchemy import select

from app.emails.models import DeliveryStatus, EmailDelivery
from app.extensions import db
from app.portal.models import LoginToken, PortalUser
from app.portal.tokens import hash_token
from tenants.context import tenant_context
from tests.support.portal_client import (
    csrf_from,
    html_part,
    link_and_code,
    post_as_browser,
    referer_sent,
    request_link,
    sign_in,
)


def test_login_page_is_branded(acme_portal):
    page = acme_portal.get("/")
    assert page.status_code == 200
    assert "Acme Rockets" in page.text
    assert 'href="/brand.css"' in page.text
    assert 'name="csrf_token"' in page.text


def test_email_link_journey_creates_the_user_and_signs_in(portal, merchant, smtp_sink):
    response = request_link(portal, "ada@example.com")
    assert response.status_code == 302 and response.location.endswith("/login/check")
    message = smtp_sink.wait_for("ada@example.com")
    assert message["From"] == "Acme Rockets <no-reply@billfold.test>"
    assert message["Reply-To"] == "billing@acme.test"
    assert "Acme Rockets" in message["Subject"]
    assert "Sign in to Acme Rockets" in html_part(message)
    path, code = link_and_code(message)
    assert len(code) == 6

    confirm = portal.get(path)
    assert confirm.status_code == 200
    assert confirm.headers["Referrer-Policy"] == "same-origin"
    assert "ada@example.com" in confirm.text
    # No third-party asset on the page whose URL holds the token.
    assets = re.findall(r'(?:src|href)="([^"]+)"', confirm.text)
    assert assets and all(url.startswith(("/", "#", "mailto:")) for url in assets)
    signed_in = portal.post(path, data={"csrf_token": csrf_from(confirm.text)})
    assert signed_in.status_code == 302
    assert signed_in.location.endswith("/account")  # a clean URL, no token in it
    with tenant_context(merchant.tenant.id):
        user = db.session.scalars(select(PortalUser)).one()
        assert user.email == "ada@example.com"
        delivery = db.session.scalars(select(EmailDelivery)).one()
        assert (delivery.kind, delivery.status) == ("login_link", DeliveryStatus.SENT)
    account = portal.get("/account")
    assert account.status_code == 200
    assert "Ada Lovelace" in account.text and "Ada&#39;s workshop" in account.text


def test_the_emailed_link_signs_in_over_https_under_the_strict_referrer_check(
    client_for, merchant, smtp_sink, app
):
    """Over HTTPS Flask-WTF refuses a form post without a Referer from our own origin: the
    confirm page must let the browser send one, and to no other origin."""
    assert app.config["WTF_CSRF_SSL_STRICT"]  # Flask-WTF's default, as in production
    portal = client_for(merchant.tenant.subdomain, scheme="https")
    asked = post_as_browser(portal, portal.get("/"), "/", {"email": "ada@example.com"})
    assert asked.status_code == 302
    path, _ = link_and_code(smtp_sink.wait_for("ada@example.com"))
    confirm = portal.get(path)
    assert confirm.status_code == 200 and confirm.request.url.startswith("https://acme.")
    policy = confirm.headers["Referrer-Policy"]
    for elsewhere in ("https://cdn.acme.test/logo.svg", "https://beta.localhost/"):
        assert referer_sent(policy, confirm.request.url, elsewhere) is None
    # The strict check stays on: a post without a Referer is still refused.
    unsent = portal.post(path, data={"csrf_token": csrf_from(confirm.text)})
    assert unsent.status_code == 400

    signed_in = post_as_browser(portal, confirm, path, {})
    assert signed_in.status_code == 302 and signed_in.location.endswith("/account")
    # The next page is not told the (spent) token's URL either.
    assert signed_in.headers["Referrer-Policy"] == "no-referrer"
    assert "Ada Lovelace" in portal.get("/account").text


def test_unknown_email_gets_the_same_response_and_a_no_account_note(portal, merchant, smtp_sink):
    known = request_link(portal, "ada@example.com")
    unknown = request_link(portal, "nobody@example.com")
    assert (known.status_code, known.location) == (unknown.status_code, unknown.location)
    assert portal.get("/login/check").status_code == 200
    note = smtp_sink.wait_for("nobody@example.com")
    assert "could not find a billing account" in html_part(note)
    with tenant_context(merchant.tenant.id):
        tokens = db.session.scalars(select(LoginToken.email)).all()
    assert tokens == ["ada@example.com"]  # no token for an address without an account


def test_get_does_not_spend_the_token_and_post_spends_it_once(
    portal, merchant, smtp_sink, client_for
):
    request_link(portal, "ada@example.com")
    path, _ = link_and_code(smtp_sink.wait_for("ada@example.com"))
    for _ in range(3):  # mail scanners pre-fetching the link
        assert portal.get(path).status_code == 200
    first = portal.post(path, data={"csrf_token": csrf_from(portal.get(path).text)})
    assert first.status_code == 302
    other = client_for("acme")
    again = other.post(path, data={"csrf_token": csrf_from(other.get("/").text)})
    assert again.status_code == 410
    assert "no longer works" in again.text
    assert other.get(path).status_code == 410


def test_token_is_stored_only_as_a_hash(portal, merchant, smtp_sink):
    request_link(portal, "ada@example.com")
    path, code = link_and_code(smtp_sink.wait_for("ada@example.com"))
    raw = path.rsplit("/", 1)[1]
    assert len(raw) >= 43  # 256 bits, URL-safe base64
    with tenant_context(merchant.tenant.id):
        token = db.session.scalars(select(LoginToken)).one()
    assert token.token_hash == hash_token(raw)
    assert raw not in (token.token_hash, token.code_hash) and code not in token.code_hash


def test_expired_link_is_refused(portal, merchant, smtp_sink):
    from datetime import UTC, datetime, timedelta

    request_link(portal, "ada@example.com")
    path, _ = link_and_code(smtp_sink.wait_for("ada@example.com"))
    with tenant_context(merchant.tenant.id):
        token = db.session.scalars(select(LoginToken)).one()
        token.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    assert portal.get(path).status_code == 410
    csrf = csrf_from(portal.get("/").text)
    assert portal.post(path, data={"csrf_token": csrf}).status_code == 410


def test_a_newer_request_leaves_sent_links_working_and_a_sign_in_ends_them_all(
    portal, merchant, smtp_sink, client_for
):
    """A stranger who asks for a link to your address cannot kill the one in your inbox; the
    code follows the newest email; once you are in, every other link and code is dead."""
    request_link(portal, "ada@example.com")
    old_path, old_code = link_and_code(smtp_sink.wait_for("ada@example.com"))
    smtp_sink.clear()
    stranger = client_for("acme")
    request_link(stranger, "ada@example.com")
    new_path, new_code = link_and_code(smtp_sink.wait_for("ada@example.com"))
    assert old_path != new_path
    assert portal.get(old_path).status_code == 200
    assert portal.get(new_path).status_code == 200
    if old_code != new_code:  # only the newest email's code is taken
        page = portal.get("/login/check")
        stale = portal.post(
            "/login/code", data={"code": old_code, "csrf_token": csrf_from(page.text)}
        )
        assert stale.status_code == 400
    signed_in = portal.post(old_path, data={"csrf_token": csrf_from(portal.get(old_path).text)})
    assert signed_in.status_code == 302 and signed_in.location.endswith("/account")
    assert portal.get(new_path).status_code == 410


def test_link_of_one_tenant_does_not_work_on_another(
    portal, merchant, smtp_sink, client_for, make_tenant
):
    make_tenant("beta", name="Beta Boats")
    request_link(portal, "ada@example.com")
    path, _ = link_and_code(smtp_sink.wait_for("ada@example.com"))
    beta = client_for("beta")
    assert beta.get(path).status_code == 410
    assert beta.post(path, data={"csrf_token": csrf_from(beta.get("/").text)}).status_code == 410
    assert portal.get(path).status_code == 200  # still good where it belongs


def test_code_login_and_attempt_limit(portal, merchant, smtp_sink):
    request_link(portal, "ada@example.com")
    _, code = link_and_code(smtp_sink.wait_for("ada@example.com"))
    page = portal.get("/login/check")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        response = portal.post(
            "/login/code", data={"code": wrong, "csrf_token": csrf_from(page.text)}
        )
        assert response.status_code == 400
        assert "That code did not work" in response.text
    # Even the right code is refused now: five attempts per emailed code.
    right = portal.post("/login/code", data={"code": code, "csrf_token": csrf_from(page.text)})
    assert right.status_code == 400


def test_code_page_does_not_tell_which_addresses_have_an_account(portal, merchant, smtp_sink):
    """A wrong code for a customer's address and any code for a stranger's read the same."""
    answers = []
    for email in ("ada@example.com", "stranger@example.com"):
        request_link(portal, email)
        smtp_sink.wait_for(email)
        page = portal.get("/login/check")
        response = portal.post(
            "/login/code", data={"code": "000001", "csrf_token": csrf_from(page.text)}
        )
        error = re.search(r'class="error"[^>]*>([^<]*)<', response.text)
        answers.append((response.status_code, error and error.group(1)))
    assert answers[0] == answers[1]
    assert answers[0][0] == 400 and "did not work" in answers[0][1]


def test_code_guesses_are_limited_per_address_whatever_the_ip(portal, merchant, smtp_sink):
    request_link(portal, "ada@example.com")
    smtp_sink.wait_for("ada@example.com")
    statuses = []
    for n in range(11):  # a new IP for every guess: only the per-address limit can stop it
        page = portal.get("/login/check")
        response = portal.post(
            "/login/code",
            data={"code": f"{n:06d}", "csrf_token": csrf_from(page.text)},
            environ_base={"REMOTE_ADDR": f"198.51.100.{n + 1}"},
        )
        statuses.append(response.status_code)
    assert statuses == [400] * 10 + [429]


def test_look_alike_spellings_of_one_address_share_its_limit(portal, merchant, smtp_sink):
    # Fullwidth letters in the domain fold into plain ones: all of these mail ada@example.com.
    spellings = ["ada@example.com", "ada@\uff45xample.com", "ada@e\uff58ample.com",
                 "ada@EXAMPLE.com", "ada@ex\uff41mple.com", "ada@exam\uff50le.com"]  # fmt: skip
    statuses = [request_link(portal, email).status_code for email in spellings]
    assert statuses == [302] * 5 + [429]


def test_right_code_signs_in(portal, merchant, smtp_sink):
    request_link(portal, "Ada@Example.com ")
    _, code = link_and_code(smtp_sink.wait_for("ada@example.com"))
    page = portal.get("/login/check")
    # Pasted with a no-break space between the halves, as some mail clients copy it.
    response = portal.post(
        "/login/code",
        data={"code": f"{code[:3]}\u00a0{code[3:]}", "csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 302 and response.location.endswith("/account")
    assert portal.get("/account").status_code == 200


def test_session_is_fresh_after_login(portal, merchant, smtp_sink):
    with portal.session_transaction(base_url="http://acme.localhost") as session:
        session["planted"] = "by an attacker"  # a fixed session the attacker knows
    sign_in(portal, smtp_sink, "ada@example.com")
    with portal.session_transaction(base_url="http://acme.localhost") as session:
        assert "planted" not in session
        assert session["_user_id"].startswith("portal:")
    cookie = portal.get_cookie("session", domain="acme.localhost")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert portal.get_cookie("session", domain=".localhost") is None  # host-only


def test_malformed_email_gets_a_clear_message(acme_portal, smtp_sink):
    page = acme_portal.get("/")
    for bad in [
        "",
        "not-an-email",
        "a@b",
        "x" * 300 + "@example.com",
        "ada@example.com\r\nBcc: x@y.z",
    ]:
        response = acme_portal.post("/", data={"email": bad, "csrf_token": csrf_from(page.text)})
        assert response.status_code == 400
        assert 'class="error"' in response.text
    assert smtp_sink.messages == []


def test_forms_without_csrf_are_refused(acme_portal):
    response = acme_portal.post("/", data={"email": "ada@example.com"})
    assert response.status_code == 400
    assert "form has expired" in response.text


def test_password_set_and_login(portal, merchant, smtp_sink, client_for):
    sign_in(portal, smtp_sink, "ada@example.com")
    page = portal.get("/account/password")
    assert "Current password" not in page.text  # just proved the inbox by email link
    short = portal.post(
        "/account/password", data={"new_password": "short", "csrf_token": csrf_from(page.text)}
    )
    assert short.status_code == 400 and "at least 10" in short.text
    ok = portal.post(
        "/account/password",
        data={"new_password": "correct horse battery", "csrf_token": csrf_from(page.text)},
    )
    assert ok.status_code == 302
    assert portal.get("/account").status_code == 200  # this session survives the change

    fresh = client_for("acme")
    form = fresh.get("/login/password")

    def password_login(email: str, password: str):
        data = {"email": email, "password": password, "csrf_token": csrf_from(form.text)}
        return fresh.post("/login/password", data=data)

    bad = password_login("ada@example.com", "wrong password!")
    assert bad.status_code == 400 and "do not match" in bad.text
    unknown = password_login("nobody@example.com", "wrong password!")
    assert unknown.text.count("do not match") == bad.text.count("do not match")  # no enumeration
    good = password_login("ADA@example.com", "correct horse battery")
    assert good.status_code == 302 and good.location.endswith("/account")
    change = fresh.get("/account/password")
    assert "Current password" in change.text  # a password session must prove the old one
    refused = fresh.post(
        "/account/password",
        data={
            "new_password": "another long password",
            "current_password": "nope",
            "csrf_token": csrf_from(change.text),
        },
    )
    assert refused.status_code == 400 and "not correct" in refused.text


def test_logout_ends_the_session(portal, merchant, smtp_sink):
    sign_in(portal, smtp_sink, "ada@example.com")
    account = portal.get("/account")
    response = portal.post("/logout", data={"csrf_token": csrf_from(account.text)})
    assert response.status_code == 302
    assert portal.get("/account").status_code == 302  # back to the login page


def test_session_of_tenant_a_is_worthless_on_tenant_b(
    portal, merchant, smtp_sink, client_for, make_tenant
):
    make_tenant("beta", name="Beta Boats")
    sign_in(portal, smtp_sink, "ada@example.com")
    stolen = portal.get_cookie("session", domain="acme.localhost").value
    beta = client_for("beta")
    beta.set_cookie("session", stolen, domain="beta.localhost")
    response = beta.get("/account")
    assert response.status_code == 302  # not signed in there
    assert "/account" not in response.location


def test_request_only_enqueues_and_takes_similar_time(portal, merchant, tasks_via_redis):
    """Known and unknown emails take the same path; with a real queue neither waits on work."""
    timings = {}
    for email in ("ada@example.com", "nobody@example.com"):
        page = portal.get("/")
        start = time.perf_counter()
        response = portal.post("/", data={"email": email, "csrf_token": csrf_from(page.text)})
        timings[email] = time.perf_counter() - start
        assert response.status_code == 302
    assert max(timings.values()) < 0.5


def test_a_merchant_hosted_logo_shows_except_where_a_token_is_in_the_url(
    portal, merchant, smtp_sink
):
    merchant.tenant.logo_url = "https://cdn.acme.test/logo.svg"
    db.session.commit()
    page = portal.get("/")
    assert '<img class="brand__logo" src="https://cdn.acme.test/logo.svg"' in page.text
    assert "img-src 'self' data: https://cdn.acme.test;" in page.headers["Content-Security-Policy"]
    request_link(portal, "ada@example.com")
    path, _ = link_and_code(smtp_sink.wait_for("ada@example.com"))
    assert "https://cdn.acme.test/logo.svg" in html_part(smtp_sink.messages[-1])  # emails too
    confirm = portal.get(path)
    assert "cdn.acme.test" not in confirm.text  # the name stands in for the logo
    assert "Acme Rockets" in confirm.text
    assert "img-src 'self' data:;" in confirm.headers["Content-Security-Policy"]


def test_logo_addresses_are_ours_or_https(db_session, app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["tenants", "create", "acme", "--name", "Acme"]).exit_code == 0
    for bad in ("javascript:alert(1)", "http://cdn.acme.test/logo.png", "//evil.test/x.png",
                "https://cdn.acme.test/a b.png", 'https://cdn.acme.test/"onerror=x'):  # fmt: skip
        result = runner.invoke(args=["tenants", "set", "acme", "--logo-url", bad])
        assert result.exit_code != 0, bad
        assert "https://" in result.output
    for good in ("/static/brand/acme.svg", "https://cdn.acme.test/logo.png"):
        assert runner.invoke(args=["tenants", "set", "acme", "--logo-url", good]).exit_code == 0


def test_the_429_page_says_when_to_try_again(portal, merchant, smtp_sink):
    statuses = [request_link(portal, "ada@example.com").status_code for _ in range(5)]
    assert statuses == [302] * 5
    refused = request_link(portal, "ada@example.com")

    assert refused.status_code == 429
    seconds = int(refused.headers["Retry-After"])
    assert 0 < seconds <= 600  # the limit hit: 5 links per address per 10 minutes
    minutes = -(-seconds // 60)
    when = "in a minute" if minutes == 1 else f"in {minutes} minutes"
    assert f"You can try again {when}." in refused.text
    assert "wait a minute" not in refused.text
