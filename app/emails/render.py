"""Render a branded email: the tenant's name, logo, colours, sender name and reply-to."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid, parseaddr

from flask import current_app, render_template

from app.emails.addresses import UndeliverableAddress, mail_address
from tenants.branding import DEFAULT_PRIMARY, contrast_text, readable_ink, safe_color
from tenants.models import Tenant
from tenants.urls import absolute_asset_url, portal_url
from tenants.validation import validate_support_email

log = logging.getLogger(__name__)


@dataclass
class RenderedEmail:
    kind: str
    to: str
    subject: str
    html: str
    text: str
    from_platform: bool = False  # Billfold writing to a merchant, not a merchant to a customer


def render_email(tenant: Tenant, kind: str, to: str, subject: str, **context) -> RenderedEmail:
    primary = safe_color(tenant.primary_color, DEFAULT_PRIMARY)
    brand = {
        "name": tenant.name,
        "logo_url": absolute_asset_url(tenant, tenant.logo_url),
        "primary": primary,
        "primary_text": contrast_text(primary),
        "link": readable_ink(primary),
        "support_email": tenant.support_email,
        "support_url": tenant.support_url,
        "portal_url": portal_url(tenant),
    }
    context.update(brand=brand, subject=subject, to=to)
    return RenderedEmail(
        kind=kind,
        to=to,
        subject=subject,
        html=render_template(f"emails/{kind}.html", **context),
        text=render_template(f"emails/{kind}.txt", **context),
    )


PLATFORM_BRAND = {
    "name": "Billfold",
    "logo_url": None,
    "primary": DEFAULT_PRIMARY,
    "primary_text": contrast_text(DEFAULT_PRIMARY),
    "link": readable_ink(DEFAULT_PRIMARY),
    "support_email": None,
    "support_url": None,
}


def render_platform_email(kind: str, to: str, subject: str, **context) -> RenderedEmail:
    """An email from Billfold itself to a merchant (an address to verify, a password to reset):
    Billfold's name and colours, whatever the merchant's branding."""
    context.update(brand=PLATFORM_BRAND, subject=subject, to=to)
    return RenderedEmail(
        kind=kind,
        to=to,
        subject=subject,
        html=render_template(f"emails/{kind}.html", **context),
        text=render_template(f"emails/{kind}.txt", **context),
        from_platform=True,
    )


def build_message(tenant: Tenant, email: RenderedEmail) -> EmailMessage:
    """The message from the tenant's sender name, replying to the tenant's support address;
    an email of ours to the merchant itself (email.from_platform) comes from the platform."""
    display, sender = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    message = EmailMessage(policy=SMTP)
    message["Subject"] = email.subject
    from_name = (display or "Billfold") if email.from_platform else tenant.display_sender
    message["From"] = mail_address(sender, from_name)
    message["To"] = mail_address(email.to)
    reply_to = None if email.from_platform else _reply_to(tenant)
    if reply_to is not None:
        message["Reply-To"] = reply_to
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=message["From"].addresses[0].domain)
    message["Auto-Submitted"] = "auto-generated"
    # Quoted-printable keeps the body 7-bit: no server has to offer 8BITMIME.
    message.set_content(email.text, cte="quoted-printable")
    message.add_alternative(email.html, subtype="html", cte="quoted-printable")
    return message


def _reply_to(tenant: Tenant) -> Address | None:
    """The tenant's support address, or none if it cannot be one: a support address saved
    before addresses were checked must not stop the tenant's emails (a login link) going out."""
    if not tenant.support_email:
        return None
    try:
        return mail_address(validate_support_email(tenant.support_email, for_sending=True))
    except (ValueError, UndeliverableAddress):
        log.warning("tenant %s: support email is no valid address; no Reply-To", tenant.subdomain)
        return None
