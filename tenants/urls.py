"""Absolute URLs of a tenant's portal, for emails and the merchant's login link."""

from __future__ import annotations

from flask import current_app

from tenants.models import Tenant


def portal_url(tenant: Tenant, path: str = "/") -> str:
    scheme = current_app.config.get("PREFERRED_URL_SCHEME") or "https"
    domain = current_app.config["PLATFORM_DOMAIN"]
    return f"{scheme}://{tenant.subdomain}.{domain}{path}"


def absolute_asset_url(tenant: Tenant, url: str | None) -> str | None:
    """A logo path on our own origin ("/static/...") made absolute for email clients."""
    if not url:
        return None
    return portal_url(tenant, url) if url.startswith("/") else url
