"""Sessions live on the server: signing out, "sign out everywhere", a password change, the idle
and the absolute limits all end them there, so a copied cookie opens nothing afterwards."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.extensions import db
from app.portal.models import PortalSession
from tenants.context import tenant_context
from tests.support.portal_client import csrf_from, link_and_code, request_link, sign_in


def _saved_cookie(client) -> str:
    return client.get_cookie("session", domain="acme.localhost").value


def _replay(client_for, cookie: str):
    """Another browser presenting a copy of the cookie."""
    thief = client_for("acme")
    thief.set_cookie("session", cookie, domain="acme.localhost")
    return thief.get("/account")


def _age_sessions(tenant_id: int, **ages: timedelta) -> None:
    now = datetime.now(UTC)
    with tenant_context(tenant_id):
        db.session.execute(
            update(PortalSession).values({name: now - age for name, age in ages.items()})
        )
        db.session.commit()


def test_a_cookie_saved_before_sign_out_opens_nothing_after(
    portal, merchant, smtp_sink, client_for
):
    sign_in(portal, smtp_sink, "ada@example.com")
    saved = _saved_cookie(portal)
    assert _replay(client_for, saved).status_code == 200  # the copy works while signed in
    account = portal.get("/account")
    portal.post("/logout", data={"csrf_token": csrf_from(account.text)})
    replayed = _replay(client_for, saved)
    assert replayed.status_code == 302 and "/account" not in replayed.location


def test_sign_out_everywhere_ends_every_browser(portal, merchant, smtp_sink, client_for):
    sign_in(portal, smtp_sink, "ada@example.com")
    laptop = client_for("acme")
    sign_in(laptop, smtp_sink, "ada@example.com")
    grace = client_for("acme")
    sign_in(grace, smtp_sink, "grace@example.com")
    page = portal.get("/account/password")
    assert "Sign out everywhere" in page.text
    response = portal.post("/logout/everywhere", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 302
    assert portal.get("/account").status_code == 302
    assert laptop.get("/account").status_code == 302
    assert grace.get("/account").status_code == 200  # another person's session is untouched


def test_sign_out_everywhere_needs_the_form_token(portal, merchant, smtp_sink):
    sign_in(portal, smtp_sink, "ada@example.com")
    assert portal.post("/logout/everywhere").status_code == 400
    assert portal.get("/account").status_code == 200


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(
    portal, merchant, smtp_sink, client_for
):
    sign_in(portal, smtp_sink, "ada@example.com")
    other = client_for("acme")
    sign_in(other, smtp_sink, "ada@example.com")
    page = portal.get("/account/password")
    portal.post(
        "/account/password",
        data={"new_password": "correct horse battery", "csrf_token": csrf_from(page.text)},
    )
    assert portal.get("/account").status_code == 200
    assert other.get("/account").status_code == 302


def test_an_idle_session_ends(portal, merchant, smtp_sink, app):
    sign_in(portal, smtp_sink, "ada@example.com")
    idle = timedelta(seconds=app.config["SESSION_IDLE_SECONDS"] + 5)
    _age_sessions(merchant.tenant.id, last_seen_at=idle)
    assert portal.get("/account").status_code == 302


def test_use_keeps_a_session_alive_but_not_past_its_absolute_lifetime(
    portal, merchant, smtp_sink, app
):
    sign_in(portal, smtp_sink, "ada@example.com")
    # Used 2 minutes ago: the visit counts as use and moves last_seen_at on.
    _age_sessions(merchant.tenant.id, last_seen_at=timedelta(minutes=2))
    assert portal.get("/account").status_code == 200
    with tenant_context(merchant.tenant.id):
        seen = db.session.scalars(db.select(PortalSession.last_seen_at)).one()
    assert datetime.now(UTC) - seen < timedelta(minutes=1)
    # Busy all along, but signed in longer ago than the absolute lifetime: over.
    lifetime = timedelta(seconds=app.config["PERMANENT_SESSION_LIFETIME"] + 5)
    _age_sessions(merchant.tenant.id, created_at=lifetime, last_seen_at=timedelta(seconds=1))
    assert portal.get("/account").status_code == 302


def test_the_cookie_holds_no_more_than_a_random_session_id(portal, merchant, smtp_sink):
    sign_in(portal, smtp_sink, "ada@example.com")
    with portal.session_transaction(base_url="http://acme.localhost") as session:
        raw = session["sid"]
    assert len(raw) >= 43
    with tenant_context(merchant.tenant.id):
        stored = db.session.scalars(db.select(PortalSession.token_hash)).one()
    assert raw not in stored  # only its hash is kept


def test_signing_in_again_ends_the_browsers_earlier_session(
    portal, merchant, smtp_sink, client_for
):
    sign_in(portal, smtp_sink, "ada@example.com")
    earlier = _saved_cookie(portal)
    smtp_sink.clear()
    request_link(client_for("acme"), "ada@example.com")  # a second email, opened here
    path, _ = link_and_code(smtp_sink.wait_for("ada@example.com"))
    confirm = portal.get(path)
    assert portal.post(path, data={"csrf_token": csrf_from(confirm.text)}).status_code == 302
    account = portal.get("/account")
    assert account.status_code == 200
    portal.post("/logout", data={"csrf_token": csrf_from(account.text)})
    assert _replay(client_for, earlier).status_code == 302
