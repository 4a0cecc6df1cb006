"""Operators' console fixtures: an operator made as the CLI makes one, and signing in as a
person does (password, then a code from the authenticator), through real cookies."""

from __future__ import annotations

import time

import pyotp
import pytest
from werkzeug.security import generate_password_hash

from app.clock import utcnow
from app.extensions import db, limiter
from app.ops.models import Operator
from app.ops.totp import STEP_SECONDS
from tests.support.portal_client import csrf_from

OPERATOR_PASSWORD = "console-heron-lattice-9"
OPERATOR_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture(autouse=True)
def fresh_limits(app):
    with app.app_context():
        limiter.reset()


@pytest.fixture
def console(client_for, db_session):
    return client_for(None)


@pytest.fixture
def make_operator(db_session):
    def make(email: str = "ops@billfold.test", enrolled: bool = True) -> Operator:
        operator = Operator(email=email, password_hash=generate_password_hash(OPERATOR_PASSWORD))
        if enrolled:
            operator.totp_secret = OPERATOR_SECRET
            operator.totp_enrolled_at = utcnow()
        db.session.add(operator)
        db.session.commit()
        return operator

    return make


def code_for(secret: str = OPERATOR_SECRET, steps_ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + steps_ahead * STEP_SECONDS)


def post_form(client, page_path: str, data: dict, action: str | None = None):
    page = client.get(page_path)
    assert page.status_code == 200, (page_path, page.status_code)
    return client.post(action or page_path, data={"csrf_token": csrf_from(page.text), **data})


def give_password(client, email: str = "ops@billfold.test", password: str = OPERATOR_PASSWORD):
    return post_form(client, "/ops/login", {"email": email, "password": password})


def sign_in(client, email: str = "ops@billfold.test", steps_ahead: int = 0):
    """Both factors; `steps_ahead` picks a code of a later step (a second sign-in within one
    30-second step needs one: codes are single use)."""
    assert give_password(client, email).status_code == 302
    response = post_form(client, "/ops/login/code", {"code": code_for(steps_ahead=steps_ahead)})
    assert response.status_code == 302, response.text
    assert response.headers["Location"].endswith("/ops/")
    return response
