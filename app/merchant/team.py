"""A tenant's team: inviting people by email, accepting an invitation, owners and members.

One account per email address (merchant_users.email is unique): an address that already has a
Billfold account cannot accept an invitation; the accept page tells its holder so, and the owner
invites another address. The owner is not told at invite time whether some other tenant's
account uses the address (that would let any sign-up probe who has an account).

Every change that could leave a tenant without an owner locks the tenant's owner rows first, so
two owners demoting or removing each other at the same moment cannot both succeed.
Services flush; the views and the task commit.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.merchant.accounts import end_every_session, user_by_email
from app.merchant.models import MerchantInvite, MerchantRole, MerchantUser
from app.merchant.passwords import check_new_password, hash_password
from app.portal.accounts import canonical_email
from app.portal.tokens import TOKEN_BYTES, hash_token
from tenants.validation import validate_name

INVITE_TTL = timedelta(days=7)
INVITE_TTL_WORDS = "7 days"


class TeamChangeRefused(ValueError):
    """The change would break a rule of the team; the message is for the owner."""


# Reading -------------------------------------------------------------------------------------


def members_of(tenant_id: int) -> list[MerchantUser]:
    return list(
        db.session.scalars(
            select(MerchantUser)
            .where(MerchantUser.tenant_id == tenant_id)
            .order_by(MerchantUser.role.desc(), MerchantUser.created_at, MerchantUser.id)
        )
    )


def _pending(now: datetime):
    return (
        MerchantInvite.accepted_at.is_(None),
        MerchantInvite.revoked_at.is_(None),
        MerchantInvite.expires_at > now,
    )


def pending_invites(tenant_id: int) -> list[MerchantInvite]:
    return list(
        db.session.scalars(
            select(MerchantInvite)
            .where(MerchantInvite.tenant_id == tenant_id, *_pending(datetime.now(UTC)))
            .order_by(MerchantInvite.created_at.desc(), MerchantInvite.id.desc())
        )
    )


def member_of(tenant_id: int, user_id: int) -> MerchantUser | None:
    """A member of this tenant by id; another tenant's is None (the view answers 404)."""
    return db.session.scalars(
        select(MerchantUser).where(MerchantUser.id == user_id, MerchantUser.tenant_id == tenant_id)
    ).one_or_none()


def invite_of(tenant_id: int, invite_id: int) -> MerchantInvite | None:
    """A pending invitation of this tenant by id; anything else is None (404)."""
    return db.session.scalars(
        select(MerchantInvite).where(
            MerchantInvite.id == invite_id,
            MerchantInvite.tenant_id == tenant_id,
            *_pending(datetime.now(UTC)),
        )
    ).one_or_none()


# Inviting ------------------------------------------------------------------------------------


def invite(tenant_id: int, invited_by: MerchantUser, email: str) -> MerchantInvite:
    """A new pending invitation (its link is issued by the email). Raises TeamChangeRefused
    for an address already on this team or already invited."""
    email = canonical_email(email)
    on_team = db.session.scalars(
        select(MerchantUser.id).where(
            MerchantUser.tenant_id == tenant_id, MerchantUser.email == email
        )
    ).first()
    if on_team is not None:
        raise TeamChangeRefused(f"{email} is already on your team.")
    already = db.session.scalars(
        select(MerchantInvite.id).where(
            MerchantInvite.tenant_id == tenant_id,
            MerchantInvite.email == email,
            *_pending(datetime.now(UTC)),
        )
    ).first()
    if already is not None:
        raise TeamChangeRefused(
            f"{email} already has an invitation waiting. Send it again from the list below."
        )
    invitation = MerchantInvite(
        tenant_id=tenant_id,
        email=email,
        role=MerchantRole.MEMBER,
        invited_by_id=invited_by.id,
        expires_at=datetime.now(UTC) + INVITE_TTL,
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation


def issue_invite_link(invitation: MerchantInvite) -> str:
    """A fresh link for the invitation, valid for INVITE_TTL from now; the one sent before stops
    working. Returns the raw token (it goes into the email, nowhere else)."""
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    now = datetime.now(UTC)
    invitation.token_hash = hash_token(raw)
    invitation.sent_at = now
    invitation.expires_at = now + INVITE_TTL
    db.session.flush()
    return raw


def revoke(invitation: MerchantInvite) -> None:
    invitation.revoked_at = datetime.now(UTC)
    db.session.flush()


# Accepting -----------------------------------------------------------------------------------


def find_invite(raw: str) -> MerchantInvite | None:
    """The pending invitation of a link, without spending it. None if unknown, used, revoked,
    replaced by a newer link or expired."""
    if not raw or len(raw) > 100:
        return None
    return db.session.scalars(
        select(MerchantInvite).where(
            MerchantInvite.token_hash == hash_token(raw), *_pending(datetime.now(UTC))
        )
    ).one_or_none()


class AddressHasAccount(Exception):
    """The invited address already has a Billfold account (one account per address)."""


def accept(raw: str, name: str, password: str) -> MerchantUser | None:
    """Spend the link and make the invited person a member. None if the link no longer works.
    Raises ValueError (the name or password rules, before anything is spent) or
    AddressHasAccount; the caller rolls back."""
    invitation = find_invite(raw)
    if invitation is None:
        return None
    name = validate_name(name)
    password = check_new_password(password, invitation.email)
    if user_by_email(invitation.email) is not None:
        raise AddressHasAccount(invitation.email)
    now = datetime.now(UTC)
    # The conditional UPDATE spends it once, however many submits race.
    spent = db.session.execute(
        update(MerchantInvite)
        .where(MerchantInvite.id == invitation.id, *_pending(now))
        .values(accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        return None
    user = MerchantUser(
        tenant_id=invitation.tenant_id,
        name=name,
        email=invitation.email,
        password_hash=hash_password(password),
        role=invitation.role,
        email_verified_at=now,  # the link came through that inbox
    )
    db.session.add(user)
    db.session.flush()
    return user


# Owners and members --------------------------------------------------------------------------


def _locked_owner_ids(tenant_id: int) -> set[int]:
    """The tenant's owners, their rows locked until the transaction ends."""
    return set(
        db.session.scalars(
            select(MerchantUser.id)
            .where(MerchantUser.tenant_id == tenant_id, MerchantUser.role == MerchantRole.OWNER)
            .with_for_update()
        )
    )


def _refuse_if_last_owner(user: MerchantUser, doing: str) -> None:
    owners = _locked_owner_ids(user.tenant_id)
    if owners == {user.id}:
        raise TeamChangeRefused(
            f"{user.name} is the only owner, so you cannot {doing}. "
            "Make someone else an owner first."
        )


def change_role(user: MerchantUser, role: str) -> None:
    if role not in MerchantRole.ALL:
        raise TeamChangeRefused("Choose owner or member.")
    if role == user.role:
        return
    if user.role == MerchantRole.OWNER:
        _refuse_if_last_owner(user, "make them a member")
        db.session.refresh(user)  # as the lock found it
    user.role = role
    db.session.flush()


def remove(user: MerchantUser, by: MerchantUser) -> None:
    """The person leaves the team: every session of theirs ends at once, then the account goes
    (their address is free again, to be invited or to sign up)."""
    if user.id == by.id:
        raise TeamChangeRefused("You cannot remove yourself. Ask another owner to do it.")
    _refuse_if_last_owner(user, "remove them")
    end_every_session(user)
    db.session.delete(user)
    db.session.flush()
