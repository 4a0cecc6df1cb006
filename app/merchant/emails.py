"""Billfold's emails to a merchant: each issues its link (the raw token exists only in the
email), renders it in Billfold's brand, and records its delivery under the merchant's tenant."""

from __future__ import annotations

from app.emails.delivery import record_delivery
from app.emails.models import EmailDelivery
from app.emails.render import RenderedEmail, render_email, render_platform_email
from app.merchant.models import MerchantInvite, MerchantUser, TokenPurpose
from app.merchant.team import INVITE_TTL_WORDS, issue_invite_link
from app.merchant.tokens import issue_token, ttl_words
from app.merchant.urls import platform_url
from app.portal.tokens import TOKEN_TTL
from tenants.models import Tenant
from tenants.urls import portal_url

SAMPLE_CODE = "123456"


def verification_email(user: MerchantUser, tenant: Tenant) -> RenderedEmail:
    raw = issue_token(user.id, TokenPurpose.VERIFY_EMAIL, user.email)
    return render_platform_email(
        "merchant_verify",
        user.email,
        "Confirm your email address for Billfold",
        name=user.name,
        business=tenant.name,
        link=platform_url(f"/dashboard/verify/{raw}"),
        expires=ttl_words(TokenPurpose.VERIFY_EMAIL),
    )


def existing_account_email(user: MerchantUser, tenant: Tenant) -> RenderedEmail:
    return render_platform_email(
        "merchant_existing_account",
        user.email,
        "You already have a Billfold account",
        business=tenant.name,
        login_link=platform_url("/dashboard/login"),
        reset_link=platform_url("/dashboard/forgot"),
    )


def reset_email(user: MerchantUser) -> RenderedEmail:
    raw = issue_token(user.id, TokenPurpose.RESET_PASSWORD, user.email)
    return render_platform_email(
        "merchant_reset",
        user.email,
        "Reset your Billfold password",
        name=user.name,
        link=platform_url(f"/dashboard/reset/{raw}"),
        expires=ttl_words(TokenPurpose.RESET_PASSWORD),
    )


def change_email_email(user: MerchantUser, new_email: str) -> RenderedEmail:
    raw = issue_token(user.id, TokenPurpose.CHANGE_EMAIL, new_email)
    return render_platform_email(
        "merchant_change_email",
        new_email,
        "Confirm your new email address for Billfold",
        name=user.name,
        link=platform_url(f"/dashboard/confirm-email/{raw}"),
        expires=ttl_words(TokenPurpose.CHANGE_EMAIL),
    )


def invite_email(invitation: MerchantInvite, inviter_name: str, tenant: Tenant) -> RenderedEmail:
    raw = issue_invite_link(invitation)
    return render_platform_email(
        "merchant_invite",
        invitation.email,
        f"Join {tenant.name} on Billfold",
        inviter=inviter_name,
        business=tenant.name,
        link=platform_url(f"/dashboard/join/{raw}"),
        expires=INVITE_TTL_WORDS,
    )


def record(rendered: RenderedEmail) -> EmailDelivery:
    return record_delivery(rendered)


def test_sign_in_email(user: MerchantUser, tenant: Tenant) -> RenderedEmail:
    """The customers' sign-in email in the tenant's branding, to the merchant itself. Its link
    opens the portal's sign-in page and its code is a sample: it signs nobody in."""
    return render_email(
        tenant,
        "login_link",
        user.email,
        f"[Test] Your {tenant.name} billing sign-in link",
        link=portal_url(tenant),
        code=SAMPLE_CODE,
        minutes=int(TOKEN_TTL.total_seconds() // 60),
    )
