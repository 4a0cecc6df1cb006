"""Portal users: created on first login, optional password, sessions bound to tenant and version."""

from __future__ import annotations

from datetime import UTC, datetime

from email_validator import EmailNotValidError, validate_email
from flask import g, session
from flask_login import login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth import register_user_loader
from app.extensions import db
from app.portal.customers import user_with_customers
from app.portal.models import PortalUser

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
    """A fresh session (no fixation): clear whatever the browser had, then log in."""
    session.clear()
    session.permanent = True
    user.last_login_at = datetime.now(UTC)
    login_user(user)
    session["tenant_id"] = user.tenant_id
    session["login_method"] = method  # "email" proves the inbox; "password" does not


def end_session() -> None:
    logout_user()
    session.clear()


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
    user.session_version += 1  # other sessions (other devices) end here


def load_portal_user(raw: str) -> PortalUser | None:
    """Flask-Login loader for "portal:<id>:<version>": only on its own tenant's host.

    The user's customers come in the same query and are kept for the request (g.my_customers,
    see blueprint.my_customers): one round trip fewer on every signed-in page.
    """
    tenant = g.get("tenant")
    user_id, _, version = raw.partition(":")
    if tenant is None or session.get("tenant_id") != tenant.id or not user_id.isdigit():
        return None
    user, customers = user_with_customers(int(user_id))
    if user is None or user.tenant_id != tenant.id or str(user.session_version) != version:
        return None
    g.my_customers = customers
    return user


register_user_loader("portal", load_portal_user)
