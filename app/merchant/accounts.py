"""Merchant accounts: sign-up, passwords, emailed links, and server-side sessions.

Services flush; the views and tasks commit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, g, session
from flask_login import login_user, logout_user
from sqlalchemy import and_, select, update

from app.auth import register_user_loader
from app.clock import as_utc
from app.extensions import db
from app.merchant.models import MerchantRole, MerchantSession, MerchantUser, TokenPurpose
from app.merchant.passwords import (
    PasswordRejected,
    check_new_password,
    hash_password,
    password_matches,
)
from app.merchant.subdomains import SubdomainTaken, check_subdomain, is_taken
from app.merchant.tokens import find_usable_token, spend_token, void_tokens
from app.portal.accounts import canonical_email
from app.portal.tokens import hash_token
from tenants.models import Tenant
from tenants.resolution import HostKind
from tenants.validation import validate_name

# The cookie's key for a merchant's session id: never the portal's "sid", so the two kinds of
# session cannot be mistaken for one another whatever a cookie carries.
SESSION_KEY = "merchant_sid"


def user_by_email(email: str) -> MerchantUser | None:
    return db.session.scalars(
        select(MerchantUser).where(MerchantUser.email == canonical_email(email))
    ).one_or_none()


@dataclass
class SignUp:
    """The result of a sign-up: a new owner, or the account that already has this address (the
    person is told the same thing either way; the owner gets a note instead of a link)."""

    user: MerchantUser | None = None
    existing: MerchantUser | None = None


class SignUpRefused(ValueError):
    """A field of the sign-up form is not acceptable: `field` names it, the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _checked(field: str, rule, value: str):
    try:
        return rule(value)
    except SubdomainTaken:
        raise
    except ValueError as exc:
        raise SignUpRefused(field, str(exc)) from None


def sign_up(business_name: str, name: str, email: str, password: str, subdomain: str) -> SignUp:
    """Create the tenant (not live yet) and its owner in the caller's transaction.

    Raises SignUpRefused or SubdomainTaken before writing anything. The password is hashed
    whether or not the address has an account: the same work either way.
    """
    email = canonical_email(email)
    business_name = _checked("business_name", validate_name, business_name)
    name = _checked("name", validate_name, name)
    password = _checked("password", lambda value: check_new_password(value, email), password)
    password_hash = hash_password(password)
    subdomain = _checked("subdomain", check_subdomain, subdomain)
    if is_taken(subdomain):
        raise SubdomainTaken(subdomain)
    existing = user_by_email(email)
    if existing is not None:
        return SignUp(existing=existing)
    tenant = Tenant(subdomain=subdomain, name=business_name, live_at=None)
    db.session.add(tenant)
    db.session.flush()
    user = MerchantUser(
        tenant_id=tenant.id,
        name=name,
        email=email,
        password_hash=password_hash,
        role=MerchantRole.OWNER,
    )
    db.session.add(user)
    db.session.flush()
    return SignUp(user=user)


def check_login(email: str, password: str) -> MerchantUser | None:
    user = user_by_email(email)
    if not password_matches(user.password_hash if user else None, password):
        return None
    return user


# Sessions -----------------------------------------------------------------------------------


def _end_sessions(*where) -> None:
    db.session.execute(
        update(MerchantSession)
        .where(MerchantSession.ended_at.is_(None), *where)
        .values(ended_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )


def start_session(user: MerchantUser) -> None:
    """A fresh session (no fixation): the browser's earlier one ends, the cookie is cleared and
    gets a new random id whose hash names the row that keeps the session alive."""
    earlier = session.get(SESSION_KEY)
    if earlier:
        _end_sessions(MerchantSession.token_hash == hash_token(earlier))
    session.clear()
    session.permanent = True
    now = datetime.now(UTC)
    user.last_login_at = now
    raw = secrets.token_urlsafe(32)
    db.session.add(
        MerchantSession(
            user_id=user.id, token_hash=hash_token(raw), created_at=now, last_seen_at=now
        )
    )
    login_user(user)
    session[SESSION_KEY] = raw


def end_session() -> None:
    raw = session.get(SESSION_KEY)
    if raw:
        _end_sessions(MerchantSession.token_hash == hash_token(raw))
    logout_user()
    session.clear()


def end_other_sessions(user: MerchantUser) -> None:
    current = hash_token(session.get(SESSION_KEY) or "")
    _end_sessions(MerchantSession.user_id == user.id, MerchantSession.token_hash != current)


def end_every_session(user: MerchantUser) -> None:
    _end_sessions(MerchantSession.user_id == user.id)


def _live_session(raw: str, now: datetime):
    config = current_app.config
    return and_(
        MerchantSession.token_hash == hash_token(raw),
        MerchantSession.ended_at.is_(None),
        MerchantSession.last_seen_at > now - timedelta(seconds=config["SESSION_IDLE_SECONDS"]),
        MerchantSession.created_at > now - timedelta(seconds=config["PERMANENT_SESSION_LIFETIME"]),
    )


_LAST_SEEN_EVERY = timedelta(minutes=1)


def load_merchant_user(raw_id: str) -> MerchantUser | None:
    """Flask-Login loader for "merchant:<id>": on the platform host only, and only while the
    session's row is live. A merchant cookie on a tenant's host opens nothing there."""
    sid = session.get(SESSION_KEY)
    if g.get("host_kind") != HostKind.PLATFORM or not sid or not raw_id.isdigit():
        return None
    now = datetime.now(UTC)
    row = db.session.execute(
        select(MerchantUser, MerchantSession.id, MerchantSession.last_seen_at)
        .join(MerchantSession, MerchantSession.user_id == MerchantUser.id)
        .where(MerchantUser.id == int(raw_id), _live_session(sid, now))
    ).one_or_none()
    if row is None:
        return None
    user, session_id, last_seen_at = row
    if now - as_utc(last_seen_at) > _LAST_SEEN_EVERY:
        db.session.execute(
            update(MerchantSession).where(MerchantSession.id == session_id).values(last_seen_at=now)
        )
    return user


register_user_loader("merchant", load_merchant_user)


# Emailed links ------------------------------------------------------------------------------


def verify_email(raw: str) -> MerchantUser | None:
    """Spend a verification link; the address it was sent to is now proven."""
    token = spend_token(raw, TokenPurpose.VERIFY_EMAIL)
    if token is None:
        return None
    user = db.session.get(MerchantUser, token.user_id)
    if user.email != token.email:  # the address changed since: this link proves nothing now
        return None
    if user.email_verified_at is None:
        user.email_verified_at = datetime.now(UTC)
    db.session.flush()
    return user


def reset_password(raw: str, new_password: str) -> MerchantUser | None:
    """Spend a reset link and set the password; every session of the account ends (whoever had
    the old password is out). Raises PasswordRejected before spending anything."""
    token = find_usable_token(raw, TokenPurpose.RESET_PASSWORD)
    if token is None:
        return None
    user = db.session.get(MerchantUser, token.user_id)
    check_new_password(new_password, user.email)
    if spend_token(raw, TokenPurpose.RESET_PASSWORD) is None:
        return None
    user.password_hash = hash_password(new_password)
    if user.email == token.email and user.email_verified_at is None:
        user.email_verified_at = datetime.now(UTC)  # the link came through that inbox
    void_tokens(user.id, TokenPurpose.RESET_PASSWORD)
    end_every_session(user)
    db.session.flush()
    return user


def change_password(user: MerchantUser, current: str, new: str) -> None:
    """Needs the current password; ends the account's other sessions, keeps this one."""
    if not password_matches(user.password_hash, current):
        raise PasswordRejected("Your current password is not correct.")
    user.password_hash = hash_password(check_new_password(new, user.email))
    end_other_sessions(user)
    db.session.flush()


class EmailChangeRefused(ValueError):
    """The new address cannot be used; the message is for the person."""


def check_email_change(user: MerchantUser, current_password: str, new_email: str) -> str:
    """The new address, normalised, once the password is right. Whether another account has it
    is not said here (that would tell a stranger who has an account): the link says so."""
    if not password_matches(user.password_hash, current_password):
        raise EmailChangeRefused("Your current password is not correct.")
    new_email = canonical_email(new_email)
    if new_email == user.email:
        raise EmailChangeRefused("That is already your address.")
    return new_email


def confirm_email_change(raw: str) -> MerchantUser | None:
    """Spend a link sent to a new address: the account moves to it, verified. Raises
    EmailChangeRefused if another account took the address meanwhile."""
    token = spend_token(raw, TokenPurpose.CHANGE_EMAIL)
    if token is None:
        return None
    if user_by_email(token.email) is not None:
        raise EmailChangeRefused(
            "Another Billfold account uses that address now, so yours keeps its old one."
        )
    user = db.session.get(MerchantUser, token.user_id)
    user.email = token.email
    user.email_verified_at = datetime.now(UTC)
    db.session.flush()
    return user
