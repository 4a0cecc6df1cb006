"""What a member may not do: the one check every owner-only page and action goes through.

Members run the portal day to day; the team, the Stripe connection and closing the account stay
with owners. The role is read from the database on each request, so a demotion takes effect at
the member's next click, not at their next sign-in.
"""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from app.extensions import login_manager
from app.merchant.models import MerchantRole


def is_owner() -> bool:
    return current_user.is_authenticated and getattr(current_user, "role", None) == (
        MerchantRole.OWNER
    )


def owner_required(view):
    """Signed out: the sign-in page, as login_required. Signed in as a member: 403."""

    @wraps(view)
    def owners_only(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not is_owner():
            abort(403, "Only an owner of this account can do this. Ask one of them.")
        return view(*args, **kwargs)

    return owners_only
