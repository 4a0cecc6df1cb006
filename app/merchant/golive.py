"""When a signed-up tenant's portal opens to its customers: once its owner's address is verified
and its Stripe is connected. Until then `tenant.live_at` is empty and its host answers 404 as an
unknown one does (tenants/resolution.py).

Called wherever one of the two conditions may have just become true: the address verified, the
dashboard opened (the merchant comes back there after connecting Stripe). The Connect flow should
call `go_live_if_ready` right after it records a connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.clock import utcnow
from app.extensions import db
from app.merchant.models import MerchantRole, MerchantUser
from tenants.models import StripeConnectionStatus, Tenant


@dataclass(frozen=True)
class GoLiveStep:
    key: str
    label: str
    done: bool


def _owner_verified(tenant: Tenant) -> bool:
    """An owner's, not a member's: whoever answers for the portal has proven their inbox."""
    return (
        db.session.scalar(
            select(MerchantUser.id)
            .where(
                MerchantUser.tenant_id == tenant.id,
                MerchantUser.role == MerchantRole.OWNER,
                MerchantUser.email_verified_at.is_not(None),
            )
            .limit(1)
        )
        is not None
    )


def go_live_steps(tenant: Tenant) -> list[GoLiveStep]:
    return [
        GoLiveStep("verify_email", "Verify your email address", _owner_verified(tenant)),
        GoLiveStep(
            "connect_stripe",
            "Connect your Stripe account",
            tenant.stripe_status == StripeConnectionStatus.CONNECTED,
        ),
    ]


def go_live_if_ready(tenant: Tenant) -> bool:
    """Open the portal if every step is done; returns whether it is live. Flushes only."""
    if tenant.is_live:
        return True
    if all(step.done for step in go_live_steps(tenant)):
        tenant.live_at = utcnow()
        db.session.flush()
        return True
    return False
