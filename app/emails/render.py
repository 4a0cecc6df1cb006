"""Render a branded email: the tenant's name, logo, colours, sender name and reply-to."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formataddr, parseaddr

from flask import current_app, render_template
from flask_mail import Message

from app.core.branding import DEFAULT_PRIMARY, contrast_text, readable_ink, safe_color
from app.portal.urls import absolute_asset_url, portal_url
from tenants.models import Tenant


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


def build_message(tenant: Tenant, email: RenderedEmail) -> Message:
    """A Flask-Mail message from the tenant's sender name, replying to the tenant's support."""
    _, address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    message = Message(
        subject=email.subject,
        recipients=[email.to],
        sender=formataddr((tenant.display_sender, address)),
        reply_to=tenant.support_email or None,
        body=email.text,
        html=email.html,
    )
    message.extra_headers = {"Auto-Submitted": "auto-generated"}
    return message
