"""Operator accounts: made and removed from the command line, set up through a one-time link,
and signed in with a password and then the authenticator, into a short server-side session
that opens /ops and nothing else.

Services flush; the views and the CLI commit.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app, g, request, session
from flask_login import login_user, logout_user
from sqlalchemy import and_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth import register_user_loader
from app.clock import as_utc
from app.extensions import db
from app.ops.models import Operator, OperatorSession
from app.portal.accounts import canonical_email
from app.portal.tokens import hash_token
from tenants.resolution import HostKind

# The cookie's key for an operator's session id: neither the portal's "sid" nor the
# dashboard's "merchant_sid", so no other audience's session can be taken for one.
SESSION_KEY = "ops_sid"
# Between the password and the code: who passed the first step, and when (signed cookie).
PENDING_KEY = "ops_pending"
PENDING_SECONDS = 5 * 60
SETUP_LINK_HOURS = 24
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200
_DUMMY_HASH = generate_password_hash("not-a-real-password-just-timing")


class OperatorExists(ValueError):
    pass


class PasswordRejected(ValueError):
    """The password is not acceptable; the message says why."""


def operator_by_email(email: str) -> Operator | None:
    return db.session.scalars(
        select(Operator).where(Operator.email == canonical_email(email))
    ).one_or_none()


def create_operator(email: str) -> tuple[Operator, str]:
    """A new operator and the raw token of their setup link (shown once, stored hashed)."""
    email = canonical_email(email)
    if "@" not in email:
        raise ValueError(f"'{email}' is not an email address")
    if operator_by_email(email) is not None:
        raise OperatorExists(f"an operator with the address {email} exists already")
    operator = Operator(email=email)
    db.session.add(operator)
    raw = _renew_setup_link(operator)
    db.session.flush()
    return operator, raw


def _renew_setup_link(operator: Operator) -> str:
    raw = secrets.token_urlsafe(32)
    operator.setup_token_hash = hash_token(raw)
    operator.setup_expires_at = datetime.now(UTC) + timedelta(hours=SETUP_LINK_HOURS)
    return raw


def remove_operator(email: str) -> Operator | None:
    """Delete the operator; their sessions and recovery codes go with them (ON DELETE CASCADE).
    The audit log keeps their address on every entry."""
    operator = operator_by_email(email)
    if operator is not None:
        db.session.delete(operator)
        db.session.flush()
    return operator


def all_operators() -> list[Operator]:
    return list(db.session.scalars(select(Operator).order_by(Operator.email)))


def operator_for_setup(raw: str) -> Operator | None:
    if not raw:
        return None
    operator = db.session.scalars(
        select(Operator).where(Operator.setup_token_hash == hash_token(raw))
    ).one_or_none()
    if operator is None or as_utc(operator.setup_expires_at) <= datetime.now(UTC):
        return None
    return operator


def check_new_password(password: str, email: str) -> str:
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRejected(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordRejected(f"Use at most {MAX_PASSWORD_LENGTH} characters.")
    if password.strip().lower() == email:
        raise PasswordRejected("Your password must not be your email address.")
    return password


def complete_setup(raw: str, password: str) -> Operator | None:
    """Spend the setup link and set the password. A new authenticator is enrolled at the next
    sign-in (a link made again for a locked-out operator starts them afresh)."""
    operator = operator_for_setup(raw)
    if operator is None:
        return None
    operator.password_hash = generate_password_hash(check_new_password(password, operator.email))
    operator.setup_token_hash = None
    operator.setup_expires_at = None
    operator.totp_secret = None
    operator.totp_enrolled_at = None
    operator.totp_last_step = None
    _end_sessions(OperatorSession.operator_id == operator.id)
    db.session.flush()
    return operator


def check_password(email: str, password: str) -> Operator | None:
    """The operator whose password this is; the same work whether the address exists or not."""
    operator = operator_by_email(email)
    stored = operator.password_hash if operator else None
    if not stored:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    return operator if check_password_hash(stored, password or "") else None


# Between the two factors ------------------------------------------------------------------


def remember_password_passed(operator: Operator) -> None:
    session.pop(SESSION_KEY, None)
    session[PENDING_KEY] = {"id": operator.id, "at": datetime.now(UTC).timestamp()}


def pending_operator() -> Operator | None:
    """The operator who gave the right password in this browser in the last few minutes."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    age = datetime.now(UTC).timestamp() - float(pending.get("at") or 0)
    if not 0 <= age <= PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None
    operator = db.session.get(Operator, int(pending.get("id") or 0))
    return operator if operator is not None and operator.password_hash else None


# Sessions ---------------------------------------------------------------------------------


def _end_sessions(*where) -> None:
    db.session.execute(
        update(OperatorSession)
        .where(OperatorSession.ended_at.is_(None), *where)
        .values(ended_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )


def start_session(operator: Operator) -> None:
    """Both factors passed: a fresh session (no fixation), the browser's earlier one ended."""
    earlier = session.get(SESSION_KEY)
    if earlier:
        _end_sessions(OperatorSession.token_hash == hash_token(earlier))
    session.clear()
    session.permanent = True
    now = datetime.now(UTC)
    operator.last_login_at = now
    raw = secrets.token_urlsafe(32)
    db.session.add(
        OperatorSession(
            operator_id=operator.id, token_hash=hash_token(raw), created_at=now, last_seen_at=now
        )
    )
    login_user(operator)
    session[SESSION_KEY] = raw


def end_session() -> None:
    raw = session.get(SESSION_KEY)
    if raw:
        _end_sessions(OperatorSession.token_hash == hash_token(raw))
    logout_user()
    session.clear()


def _live_session(raw: str, now: datetime):
    config = current_app.config
    return and_(
        OperatorSession.token_hash == hash_token(raw),
        OperatorSession.ended_at.is_(None),
        OperatorSession.last_seen_at > now - timedelta(seconds=config["OPS_SESSION_IDLE_SECONDS"]),
        OperatorSession.created_at
        > now - timedelta(seconds=config["OPS_SESSION_LIFETIME_SECONDS"]),
    )


def is_console_path(path: str) -> bool:
    return path == "/ops" or path.startswith("/ops/")


def load_operator(raw_id: str) -> Operator | None:
    """Flask-Login loader for "operator:<id>": on the platform host under /ops only, and only
    while the session's row is live. Each page seen keeps it alive (idle timeout)."""
    sid = session.get(SESSION_KEY)
    if (
        g.get("host_kind") != HostKind.PLATFORM
        or not is_console_path(request.path)
        or not sid
        or not raw_id.isdigit()
    ):
        return None
    now = datetime.now(UTC)
    row = db.session.execute(
        select(Operator, OperatorSession.id)
        .join(OperatorSession, OperatorSession.operator_id == Operator.id)
        .where(Operator.id == int(raw_id), _live_session(sid, now))
    ).one_or_none()
    if row is None:
        return None
    operator, session_id = row
    db.session.execute(
        update(OperatorSession).where(OperatorSession.id == session_id).values(last_seen_at=now)
    )
    return operator


register_user_loader("operator", load_operator)
