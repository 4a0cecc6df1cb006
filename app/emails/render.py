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


def build_message(tenant: Tenant, email: RenderedEmail) -> EmailMessage:
    """The message from the tenant's sender name, replying to the tenant's support address."""
    _, sender = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    message = EmailMessage(policy=SMTP)
    message["Subject"] = email.subject
    message["From"] = mail_address(sender, tenant.display_sender)
    message["To"] = mail_address(email.to)
    reply_to = _reply_to(tenant)
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
