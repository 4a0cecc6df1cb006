"""A merchant's emailed links: 256 random bits, stored only as a SHA-256, single use, expiring.

One table for the three kinds (verify an address, reset a password, confirm a new address), told
apart by `purpose`, so a link of one kind is never taken for another.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.merchant.models import MerchantToken, TokenPurpose
from app.portal.tokens import TOKEN_BYTES, hash_token

TTL = {
    TokenPurpose.VERIFY_EMAIL: timedelta(days=2),
    # Whoever holds the inbox for an hour can take the account: keep it short.
    TokenPurpose.RESET_PASSWORD: timedelta(hours=1),
    TokenPurpose.CHANGE_EMAIL: timedelta(days=1),
}


def ttl_words(purpose: str) -> str:
    hours = int(TTL[purpose].total_seconds() // 3600)
    return f"{hours} hours" if hours > 1 else "an hour"


def issue_token(user_id: int, purpose: str, email: str) -> str:
    """A new link for `user_id`; returns the raw token (it goes into the email, nowhere else)."""
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.add(
        MerchantToken(
            user_id=user_id,
            purpose=purpose,
            email=email,
            token_hash=hash_token(raw),
            expires_at=datetime.now(UTC) + TTL[purpose],
        )
    )
    db.session.flush()
    return raw


def _usable(purpose: str, now: datetime):
    return (
        MerchantToken.purpose == purpose,
        MerchantToken.used_at.is_(None),
        MerchantToken.expires_at > now,
    )


def find_usable_token(raw: str, purpose: str) -> MerchantToken | None:
    """The live token of a link, without spending it (the page that shows the button)."""
    if not raw or len(raw) > 100:
        return None
    return db.session.scalars(
        select(MerchantToken).where(
            MerchantToken.token_hash == hash_token(raw), *_usable(purpose, datetime.now(UTC))
        )
    ).one_or_none()


def spend_token(raw: str, purpose: str) -> MerchantToken | None:
    """Spend a link: the conditional UPDATE makes a double submit spend it once. None if it is
    unknown, of another kind, used or expired."""
    token = find_usable_token(raw, purpose)
    if token is None:
        return None
    now = datetime.now(UTC)
    spent = db.session.execute(
        update(MerchantToken)
        .where(MerchantToken.id == token.id, *_usable(purpose, now))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return token if spent.rowcount == 1 else None


def void_tokens(user_id: int, purpose: str) -> None:
    """The other live links of this kind are of no more use (a password was just reset)."""
    db.session.execute(
        update(MerchantToken)
        .where(
            MerchantToken.user_id == user_id,
            MerchantToken.purpose == purpose,
            MerchantToken.used_at.is_(None),
        )
        .values(used_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
