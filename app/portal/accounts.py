"""Portal users: created on first login, optional password, sessions bound to tenant and version."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app, g, session
from flask_login import login_user, logout_user
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth import register_user_loader
from app.clock import as_utc
from app.extensions import db
from app.portal.customers import user_with_customers
from app.portal.models import PortalSession, PortalUser
from app.portal.tokens import hash_token

MIN_PASSWORD_LENGTH = 10
# Checked when the email is unknown, so a miss costs the same time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password-just-timing")


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def canonical_email(raw: str) -> str:
    """The address mail really goes to, as the login form stores it: email_validator folds
    look-alike spellings (fullwidth letters, IDNA forms of the domain) into one, so rate limits
    keyed on it cannot be dodged by spelling one address many ways. Invalid input stays as typed.
    """
    try:
        return normalize_email(validate_email(raw or "", check_deliverability=False).normalized)
    except EmailNotValidError:
        return normalize_email(raw)


def user_for_email(email: str) -> PortalUser:
    """The tenant's portal user for this email; the first login creates it."""
    user = db.session.scalars(select(PortalUser).where(PortalUser.email == email)).one_or_none()
    if user is None:
        user = PortalUser(email=email)
        db.session.add(user)
        db.session.flush()
    return user


def start_session(user: PortalUser, method: str) -> None:
    """A fresh session (no fixation): clear whatever the browser had, then log in. The cookie
    gets a new random id; only its hash is stored, in the row that keeps the session alive."""
    earlier = session.get("sid")
    if earlier:  # signing in again: the session this browser had ends, not only the new one
        _end_sessions(PortalSession.token_hash == hash_token(earlier))
    session.clear()
    session.permanent = True
    now = datetime.now(UTC)
    user.last_login_at = now
    raw = secrets.token_urlsafe(32)
    db.session.add(
        PortalSession(
            user_id=user.id,
            token_hash=hash_token(raw),
            method=method,
            created_at=now,
            last_seen_at=now,
        )
    )
    login_user(user)
    session["sid"] = raw
    session["tenant_id"] = user.tenant_id
    session["login_method"] = method  # "email" proves the inbox; "password" does not


def _end_sessions(*where) -> None:
    db.session.execute(
        update(PortalSession)
        .where(PortalSession.ended_at.is_(None), *where)
        .values(ended_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )


def end_session() -> None:
    """Sign this browser out: its session row ends, so a copy of the cookie opens nothing."""
    raw = session.get("sid")
    if raw:
        _end_sessions(PortalSession.token_hash == hash_token(raw))
    logout_user()
    session.clear()


def end_every_session(user: PortalUser) -> None:
    """ "Sign out everywhere": every browser of this user, this one included."""
    _end_sessions(PortalSession.user_id == user.id)
    logout_user()
    session.clear()


def end_other_sessions(user: PortalUser) -> None:
    """After a password change: every other browser of this user is signed out."""
    current = hash_token(session.get("sid") or "")
    _end_sessions(PortalSession.user_id == user.id, PortalSession.token_hash != current)


def _session_limits(now: datetime) -> tuple[datetime, datetime]:
    """A session still good was used within the idle limit and started within the absolute one
    (neither is renewed by use: a session cannot be kept alive forever)."""
    config = current_app.config
    return (
        now - timedelta(seconds=config["SESSION_IDLE_SECONDS"]),
        now - timedelta(seconds=config["PERMANENT_SESSION_LIFETIME"]),
    )


# How often a session's last use is written down: the idle limit needs minutes, not requests.
_LAST_SEEN_EVERY = timedelta(minutes=1)


def check_password_login(email: str, password: str) -> PortalUser | None:
    user = db.session.scalars(select(PortalUser).where(PortalUser.email == email)).one_or_none()
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    return user if check_password_hash(user.password_hash, password or "") else None


class PasswordRejected(ValueError):
    """The new password (or the current one) is not acceptable; the message is for the user."""


def change_password(user: PortalUser, new: str, current: str | None) -> None:
    """Set or change the password. After an email-link login no current password is needed."""
    needs_current = user.password_hash and session.get("login_method") != "email"
    if needs_current and not (current and check_password_hash(user.password_hash, current)):
        raise PasswordRejected("Your current password is not correct.")
    if len(new or "") < MIN_PASSWORD_LENGTH:
        raise PasswordRejected(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if new.lower() == user.email:
        raise PasswordRejected("Your password must not be your email address.")
    user.password_hash = generate_password_hash(new)
    end_other_sessions(user)  # other devices are signed out here


def load_portal_user(raw: str) -> PortalUser | None:
    """Flask-Login loader for "portal:<id>": only on its own tenant's host, and only
    while the session's row on the server is live.

    The session row and the user's customers come in the same query, and the customers are kept
    for the request (g.my_customers, see blueprint.my_customers): one round trip for all three.
    """
    tenant = g.get("tenant")
    user_id = raw
    sid = session.get("sid")
    if tenant is None or session.get("tenant_id") != tenant.id or not user_id.isdigit() or not sid:
        return None
    now = datetime.now(UTC)
    user, live, customers = user_with_customers(
        int(user_id), hash_token(sid), *_session_limits(now)
    )
    if user is None or user.tenant_id != tenant.id:
        return None
    session_id, last_seen_at = live
    if now - as_utc(last_seen_at) > _LAST_SEEN_EVERY:
        db.session.execute(
            update(PortalSession).where(PortalSession.id == session_id).values(last_seen_at=now)
        )  # committed with the request (app/commits.py)
    g.my_customers = customers
    return user


register_user_loader("portal", load_portal_user)
