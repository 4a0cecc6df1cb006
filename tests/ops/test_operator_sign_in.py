"""Operators sign in with a password and a TOTP code; codes work once; recovery codes work once;
the session opens /ops only, ends when idle, and no other audience's session opens /ops."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from sqlalchemy import select, text, update

from app.clock import utcnow
from app.extensions import db
from app.ops.models import AuditEntry, Operator, OperatorSession, RecoveryCode
from tests.ops.conftest import OPERATOR_PASSWORD, code_for, give_password, post_form, sign_in
from tests.support.portal_client import csrf_from


def test_password_then_code_opens_the_console(console, make_operator):
    make_operator()
    assert console.get("/ops/").headers["Location"].endswith("/ops/login")
    response = give_password(console)
    assert response.headers["Location"].endswith("/ops/login/code")
    assert console.get("/ops/").status_code == 302  # a password alone opens nothing
    sign_in_response = post_form(console, "/ops/login/code", {"code": code_for()})
    assert sign_in_response.status_code == 302
    page = console.get("/ops/")
    assert page.status_code == 200 and "Tenants" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions == ["sign_in"]


def test_a_wrong_password_is_refused_without_saying_which_part(console, make_operator):
    make_operator()
    wrong = give_password(console, password="not-the-password")
    unknown = give_password(console, email="nobody@billfold.test")
    assert wrong.status_code == unknown.status_code == 400
    assert "do not match" in wrong.text and "do not match" in unknown.text


def test_a_wrong_code_is_refused(console, make_operator):
    make_operator()
    give_password(console)
    wrong = "000000" if code_for() != "000000" else "111111"
    response = post_form(console, "/ops/login/code", {"code": wrong})
    assert response.status_code == 400 and "not right" in response.text
    assert console.get("/ops/").status_code == 302


def test_a_code_is_accepted_once(client_for, make_operator):
    make_operator()
    first, second = client_for(None), client_for(None)
    code = code_for()
    give_password(first)
    assert post_form(first, "/ops/login/code", {"code": code}).status_code == 302
    give_password(second)
    replayed = post_form(second, "/ops/login/code", {"code": code})
    assert replayed.status_code == 400
    assert second.get("/ops/").status_code == 302
    # Nor a code of an earlier step than one already used.
    give_password(second)
    earlier = post_form(second, "/ops/login/code", {"code": code_for(steps_ahead=-1)})
    assert earlier.status_code == 400


def test_enrolment_by_qr_code_then_recovery_codes_once(console, make_operator):
    make_operator(enrolled=False)
    response = give_password(console)
    assert response.headers["Location"].endswith("/ops/enrol")
    page = console.get("/ops/enrol")
    assert page.status_code == 200 and "<svg" in page.text and "QR code" in page.text
    operator = db.session.scalars(select(Operator)).one()
    db.session.refresh(operator)
    secret = operator.totp_secret
    stored = db.session.execute(text("SELECT totp_secret FROM operators")).scalar()
    assert secret and stored != secret and secret not in stored  # encrypted at rest
    assert all(f">{secret[i : i + 4]}<" in page.text for i in range(0, len(secret), 4))
    wrong = console.post("/ops/enrol", data={"csrf_token": csrf_from(page.text), "code": "12"})
    assert wrong.status_code == 400
    done = console.post(
        "/ops/enrol",
        data={"csrf_token": csrf_from(page.text), "code": pyotp.TOTP(secret).now()},
    )
    assert done.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", done.text)
    assert len(codes) == 10
    hashes = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(hashes) == 10 and not any(code.replace("-", "") in hashes for code in codes)
    assert console.get("/ops/").status_code == 200
    assert console.get("/ops/enrol").status_code == 302  # never shown again


def test_a_recovery_code_works_once_and_a_wrong_one_not_at_all(client_for, make_operator):
    from app.ops.totp import new_recovery_codes

    operator = make_operator()
    codes = new_recovery_codes(operator)
    db.session.commit()
    browser = client_for(None)
    give_password(browser)
    wrong = post_form(browser, "/ops/login/code", {"code": "abcde-12345"})
    assert wrong.status_code == 400
    used = post_form(browser, "/ops/login/code", {"code": codes[0].upper()})
    assert used.status_code == 302
    assert "9 left" in browser.get("/ops/").text
    again = client_for(None)
    give_password(again)
    assert post_form(again, "/ops/login/code", {"code": codes[0]}).status_code == 400
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions == ["sign_in_with_recovery_code"]


def test_the_operator_cookie_opens_nothing_outside_ops(console, make_operator):
    make_operator()
    sign_in(console)
    assert console.get("/ops/").status_code == 200
    home = console.get("/dashboard/")
    assert home.status_code == 302 and "/dashboard/login" in home.headers["Location"]


def test_a_merchant_session_does_not_open_ops(console, make_tenant):
    from app.merchant.models import MerchantUser
    from app.merchant.passwords import hash_password

    tenant = make_tenant("acme")
    db.session.add(
        MerchantUser(
            tenant_id=tenant.id,
            name="Ada",
            email="owner@example.com",
            password_hash=hash_password(OPERATOR_PASSWORD),
            email_verified_at=utcnow(),
        )
    )
    db.session.commit()
    assert (
        post_form(
            console,
            "/dashboard/login",
            {"email": "owner@example.com", "password": OPERATOR_PASSWORD},
        ).status_code
        == 302
    )
    assert console.get("/dashboard/").status_code == 200  # the merchant is signed in
    for path in ("/ops/", "/ops/audit", f"/ops/tenants/{tenant.id}"):
        response = console.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/ops/login")


def test_the_console_is_not_on_a_tenant_host(client_for, make_tenant, make_operator):
    make_tenant("acme")
    assert client_for("acme").get("/ops/login").status_code == 404


def test_an_idle_session_ends(console, make_operator):
    make_operator()
    sign_in(console)
    assert console.get("/ops/").status_code == 200
    db.session.execute(
        update(OperatorSession).values(last_seen_at=utcnow() - timedelta(minutes=16))
    )
    db.session.commit()
    assert console.get("/ops/").status_code == 302


def test_sign_out_ends_the_session_row(console, make_operator):
    make_operator()
    sign_in(console)
    page = console.get("/ops/")
    console.post("/ops/logout", data={"csrf_token": csrf_from(page.text)})
    assert db.session.scalars(select(OperatorSession.ended_at)).one() is not None
    assert console.get("/ops/").status_code == 302


def test_the_login_form_without_its_csrf_token_is_refused(console, make_operator):
    make_operator()
    response = console.post(
        "/ops/login", data={"email": "ops@billfold.test", "password": OPERATOR_PASSWORD}
    )
    assert response.status_code == 400


def test_guessing_codes_is_limited(console, make_operator):
    make_operator()
    give_password(console)
    statuses = [
        post_form(console, "/ops/login/code", {"code": "999999"}).status_code for _ in range(6)
    ]
    assert statuses[:5] == [400] * 5 and statuses[5] == 429
    # Even the right code waits now.
    page_status = post_form(console, "/ops/login/code", {"code": code_for()}).status_code
    assert page_status == 429


def test_guessing_passwords_is_limited(console, make_operator):
    make_operator()
    statuses = [give_password(console, password="wrong-password").status_code for _ in range(6)]
    assert statuses == [400] * 5 + [429]
