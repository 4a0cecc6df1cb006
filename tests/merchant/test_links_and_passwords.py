"""Emailed links (verify, reset, new address) are hashed, single use and expiring; a forgotten
password gets the same answer for every address; password and address changes."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.merchant.models import MerchantToken, MerchantUser, TokenPurpose
from app.portal.tokens import hash_token
from tests.merchant.conftest import (
    PASSWORD,
    emailed_link,
    follow_link,
    log_in,
    sign_up,
    signed_up_and_verified,
)
from tests.support.portal_client import csrf_from

NEW_PASSWORD = "lantern-quarry-mosaic"


def _expire(purpose: str) -> None:
    db.session.execute(
        update(MerchantToken)
        .where(MerchantToken.purpose == purpose)
        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    db.session.commit()


def _forgot(client, email: str):
    page = client.get("/dashboard/forgot")
    return client.post(
        "/dashboard/forgot", data={"csrf_token": csrf_from(page.text), "email": email}
    )


def test_a_verification_link_is_stored_hashed_and_works_once(platform, smtp_sink, client_for):
    sign_up(platform)
    path = emailed_link(smtp_sink, "owner@example.com")
    raw = path.rsplit("/", 1)[1]
    assert len(raw) >= 43
    token = db.session.scalars(select(MerchantToken)).one()
    assert token.token_hash == hash_token(raw) and token.purpose == TokenPurpose.VERIFY_EMAIL
    for _ in range(2):  # a mail scanner's GETs spend nothing
        page = platform.get(path)
        assert page.status_code == 200 and page.headers["Referrer-Policy"] == "same-origin"
    assert follow_link(platform, path).status_code == 302
    again = client_for(None)
    assert again.get(path).status_code == 410
    reused = again.post(path, data={"csrf_token": csrf_from(again.get("/dashboard/login").text)})
    assert reused.status_code == 410 and "This link no longer works" in reused.text


def test_an_expired_verification_link_is_refused(platform, smtp_sink):
    sign_up(platform)
    path = emailed_link(smtp_sink, "owner@example.com")
    _expire(TokenPurpose.VERIFY_EMAIL)
    assert platform.get(path).status_code == 410
    csrf = csrf_from(platform.get("/dashboard/login").text)
    assert platform.post(path, data={"csrf_token": csrf}).status_code == 410
    assert db.session.scalars(select(MerchantUser)).one().email_verified_at is None


def test_a_link_of_one_kind_is_not_taken_for_another(platform, smtp_sink):
    sign_up(platform)
    raw = emailed_link(smtp_sink, "owner@example.com").rsplit("/", 1)[1]
    assert platform.get(f"/dashboard/reset/{raw}").status_code == 410
    assert platform.get(f"/dashboard/confirm-email/{raw}").status_code == 410


def test_forgotten_password_answers_the_same_for_known_and_unknown(platform, smtp_sink):
    sign_up(platform)
    smtp_sink.clear()
    known = _forgot(platform, "owner@example.com")
    unknown = _forgot(platform, "nobody@example.com")
    assert (known.status_code, known.location) == (unknown.status_code, unknown.location)
    assert known.location.endswith("/dashboard/forgot/sent")
    page = platform.get(known.location)
    assert 'If <strong class="break">nobody@example.com</strong> belongs' in page.text
    assert smtp_sink.wait_for("owner@example.com")
    assert [m["X-Envelope-To"] for m in smtp_sink.messages] == ["owner@example.com"]
    purposes = db.session.scalars(select(MerchantToken.purpose)).all()
    assert purposes.count(TokenPurpose.RESET_PASSWORD) == 1


def test_a_reset_link_sets_the_password_once_and_ends_every_session(
    platform, smtp_sink, client_for
):
    signed_up_and_verified(platform, smtp_sink)
    other = client_for(None)
    assert log_in(other).status_code == 302
    smtp_sink.clear()
    _forgot(client_for(None), "owner@example.com")
    path = emailed_link(smtp_sink, "owner@example.com")

    weak = platform.post(
        path, data={"csrf_token": csrf_from(platform.get(path).text), "new_password": "1q2w3e4r5t"}
    )
    assert weak.status_code == 400 and "most common passwords" in weak.text
    done = platform.post(
        path, data={"csrf_token": csrf_from(platform.get(path).text), "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 302 and done.location.endswith("/dashboard/login")
    assert other.get("/dashboard").status_code == 302  # the other browser is signed out
    assert platform.get(path).status_code == 410  # used
    assert log_in(client_for(None), password=PASSWORD).status_code == 400
    assert log_in(client_for(None), password=NEW_PASSWORD).status_code == 302


def test_an_expired_reset_link_is_refused(platform, smtp_sink):
    sign_up(platform)
    _forgot(platform, "owner@example.com")
    path = emailed_link(smtp_sink, "owner@example.com")
    assert "/dashboard/reset/" in path
    _expire(TokenPurpose.RESET_PASSWORD)
    assert platform.get(path).status_code == 410


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(
    platform, smtp_sink, client_for
):
    signed_up_and_verified(platform, smtp_sink)
    other = client_for(None)
    log_in(other)
    page = platform.get("/dashboard/settings/password")
    wrong = platform.post(
        "/dashboard/settings/password",
        data={
            "csrf_token": csrf_from(page.text),
            "current_password": "not-my-password",
            "new_password": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 400 and "current password is not correct" in wrong.text
    changed = platform.post(
        "/dashboard/settings/password",
        data={
            "csrf_token": csrf_from(page.text),
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    assert platform.get("/dashboard").status_code == 200
    assert other.get("/dashboard").status_code == 302


def test_changing_the_address_goes_through_a_link_to_the_new_one(platform, smtp_sink, client_for):
    signed_up_and_verified(platform, smtp_sink)
    smtp_sink.clear()
    page = platform.get("/dashboard/settings/email")
    asked = platform.post(
        "/dashboard/settings/email",
        data={
            "csrf_token": csrf_from(page.text),
            "email": "New.Owner@example.com",
            "current_password": PASSWORD,
        },
    )
    assert asked.status_code == 302
    user = db.session.scalars(select(MerchantUser)).one()
    assert user.email == "owner@example.com"  # nothing changes before the link is opened
    path = emailed_link(smtp_sink, "new.owner@example.com")
    assert "/dashboard/confirm-email/" in path
    assert follow_link(client_for(None), path).status_code == 302
    db.session.refresh(user)
    assert user.email == "new.owner@example.com" and user.email_verified_at is not None
    assert client_for(None).get(path).status_code == 410  # used
    assert log_in(client_for(None), "owner@example.com").status_code == 400
    assert log_in(client_for(None), "new.owner@example.com").status_code == 302


def test_an_address_taken_before_the_link_is_opened_stays_with_its_owner(
    platform, smtp_sink, client_for
):
    signed_up_and_verified(platform, smtp_sink)
    page = platform.get("/dashboard/settings/email")
    platform.post(
        "/dashboard/settings/email",
        data={
            "csrf_token": csrf_from(page.text),
            "email": "second@example.com",
            "current_password": PASSWORD,
        },
    )
    path = emailed_link(smtp_sink, "second@example.com")
    assert (
        sign_up(client_for(None), email="second@example.com", subdomain="beta").status_code == 302
    )
    refused = follow_link(client_for(None), path)
    assert (
        refused.status_code == 409 and "Another Billfold account uses that address" in refused.text
    )
    emails = sorted(db.session.scalars(select(MerchantUser.email)).all())
    assert emails == ["owner@example.com", "second@example.com"]
