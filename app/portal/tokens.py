"""Emailed login tokens: 256 random bits and a 6-digit code, stored only as hashes, single use.

A token is bound to its tenant (scoped model) and lives 10 minutes. Asking again does not void
the links already sent (a stranger asking for your address must not kill the link in your inbox);
only the newest email's code is accepted, and signing in voids every other live token of the
address. Five wrong codes end that code, never the link beside it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select, text, update

from app.extensions import db
from app.portal.models import LoginToken

TOKEN_TTL = timedelta(minutes=10)
MAX_CODE_ATTEMPTS = 5
TOKEN_BYTES = 32  # 256 bits: far past the 128 that makes guessing hopeless


@dataclass(frozen=True)
class SpentToken:
    email: str
    source: str | None  # where the customer found the login link, for the activity page


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def hash_code(email: str, code: str) -> str:
    # Keyed: a 6-digit code has too few values to store as a plain hash.
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{email}:{code}".encode(), hashlib.sha256).hexdigest()


def issue_login_token(email: str, source: str | None = None) -> tuple[str, str]:
    """A new token for `email` in this tenant; returns (link, code). `source`: where the
    customer found the login link (?src=), kept with the sign-in."""
    now = datetime.now(UTC)
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    code = f"{secrets.randbelow(10**6):06d}"
    db.session.add(
        LoginToken(
            email=email,
            token_hash=hash_token(raw),
            code_hash=hash_code(email, code),
            expires_at=now + TOKEN_TTL,
            source=source,
        )
    )
    db.session.flush()
    return raw, code


def _usable(now: datetime):
    return (
        LoginToken.used_at.is_(None),
        LoginToken.voided.is_(False),
        LoginToken.expires_at > now,
    )


def find_usable_token(raw: str) -> LoginToken | None:
    """The live token for a link, without spending it (the GET that shows the confirm button)."""
    if not raw or len(raw) > 100:
        return None
    now = datetime.now(UTC)
    return db.session.scalars(
        select(LoginToken).where(LoginToken.token_hash == hash_token(raw), *_usable(now))
    ).one_or_none()


def _spend(token_id: int) -> bool:
    """Mark used if still usable; the conditional UPDATE makes a double submit spend it once."""
    now = datetime.now(UTC)
    result = db.session.execute(
        update(LoginToken)
        .where(LoginToken.id == token_id, *_usable(now))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _void_other_tokens(email: str, spent_id: int) -> None:
    """Signed in: the address's other links and codes are of no more use to anyone."""
    db.session.execute(
        update(LoginToken)
        .where(LoginToken.email == email, LoginToken.id != spent_id, LoginToken.used_at.is_(None))
        .values(voided=True)
        .execution_options(synchronize_session=False)
    )


def spend_link_token(raw: str) -> SpentToken | None:
    """Spend a link token; None if it is unknown, used, voided or expired."""
    token = find_usable_token(raw)
    if token is None or not _spend(token.id):
        return None
    _void_other_tokens(token.email, token.id)
    return SpentToken(token.email, token.source)


# Compared against when no code is live, so a miss costs the same work either way.
_NO_CODE = "0" * 64


def spend_code(email: str, code: str) -> SpentToken | None:
    """Check a typed code against the newest live token of `email` (at most 5 tries each);
    returns the spent token when it is right, as spend_link_token does.

    Known and unknown addresses do the same work: one UPDATE that counts the attempt on the
    newest live token (none matches for an address that was never sent one), one comparison,
    and the caller's commit. Only a right code does more, and then the answer differs anyway.
    """
    now = datetime.now(UTC)
    if db.session.get_bind().dialect.name == "postgresql":
        # A counted attempt need not wait for the disk: without this, the commit of a row
        # written (a live code) waits for a WAL flush and the commit of nothing (no code) does
        # not, a difference of about half a millisecond that tells which addresses have one.
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    newest = (
        select(LoginToken.id)
        .where(LoginToken.email == email, *_usable(now))
        .order_by(LoginToken.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    counted = db.session.execute(
        update(LoginToken)
        .where(LoginToken.id == newest, LoginToken.code_attempts < MAX_CODE_ATTEMPTS)
        .values(code_attempts=LoginToken.code_attempts + 1)
        .returning(LoginToken.id, LoginToken.code_hash, LoginToken.source)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    given = re.sub(r"\s", "", code or "")  # "123 456", pasted with any kind of space
    expected = counted.code_hash if counted else _NO_CODE
    if hmac.compare_digest(expected, hash_code(email, given)) and counted and _spend(counted.id):
        _void_other_tokens(email, counted.id)
        return SpentToken(email, counted.source)
    return None
