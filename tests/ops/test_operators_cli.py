"""`flask operators create/list/remove`: a one-time setup link that sets the password once;
removing an operator ends their sessions."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.ops.models import Operator
from tests.ops.conftest import OPERATOR_PASSWORD, post_form


def run(app, *args):
    return app.test_cli_runner().invoke(args=["operators", *args])


def test_create_prints_a_one_time_setup_link(app, console):
    result = run(app, "create", "New.Op@Billfold.test")
    assert result.exit_code == 0, result.output
    path = re.search(r"https?://[^/\s]+(/ops/setup/[A-Za-z0-9_-]+)", result.output).group(1)
    operator = db.session.scalars(select(Operator)).one()
    assert operator.email == "new.op@billfold.test" and operator.password_hash is None
    assert path.rsplit("/", 1)[1] not in (operator.setup_token_hash or "")  # stored hashed
    assert "setup link not used yet" in run(app, "list").output

    short = post_form(console, path, {"password": "short", "confirm": "short"})
    assert short.status_code == 400 and "at least 12" in short.text
    done = post_form(console, path, {"password": OPERATOR_PASSWORD, "confirm": OPERATOR_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/ops/login")
    assert console.get(path).status_code == 410  # used once
    db.session.expire_all()  # the request changed the row this session holds
    assert "authenticator not enrolled" in run(app, "list").output
    assert run(app, "create", "new.op@billfold.test").exit_code != 0  # exists


def test_remove(app, console, make_operator):
    make_operator()
    assert run(app, "remove", "ops@billfold.test").exit_code == 0
    assert db.session.scalars(select(Operator)).all() == []
    missing = run(app, "remove", "ops@billfold.test")
    assert missing.exit_code != 0 and "no operator" in missing.output
