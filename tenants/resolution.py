"""Request host -> tenant. The tenant comes from the host only: never a header, form or query."""

from __future__ import annotations

from flask import abort, current_app, g, request
from sqlalchemy import select
from sqlalchemy.orm import defer

from app.extensions import db
from tenants.context import reset_tenant_id, set_tenant_id
from tenants.host_cache import cached_tenant, install_forgetting_hooks
from tenants.models import ENCRYPTED_ATTRIBUTES, Tenant
from tenants.validation import SUBDOMAIN_RE


class HostKind:
    PLATFORM = "platform"
    TENANT = "tenant"


def split_host(host: str, platform_host: str) -> tuple[str, str | None]:
    """Classify a Host header: ("platform", None), ("tenant", subdomain) or ValueError."""
    hostname = (host or "").strip().lower()
    if hostname.startswith("["):
        raise ValueError("IP literal hosts are not served")
    hostname = hostname.rsplit(":", 1)[0] if ":" in hostname else hostname
    hostname = hostname.rstrip(".")
    if hostname == platform_host:
        return HostKind.PLATFORM, None
    suffix = "." + platform_host
    if hostname.endswith(suffix):
        label = hostname[: -len(suffix)]
        if SUBDOMAIN_RE.match(label):
            return HostKind.TENANT, label
    raise ValueError(f"host {hostname!r} is not served here")


TEMPORARILY_UNAVAILABLE = "This billing portal is temporarily unavailable. Please try again later."

# Stylesheets, scripts and the icon are the same for everyone and carry no tenant data: every
# host gets them, so that even an unknown subdomain's "not found" page is styled.
HOST_INDEPENDENT_ENDPOINTS = frozenset({"static", "core.favicon"})


def resolve_tenant() -> None:
    """before_request: set g.tenant (None on the platform host) and the tenant context."""
    g.tenant = None
    g.host_kind = None
    if request.endpoint in HOST_INDEPENDENT_ENDPOINTS:
        return
    try:
        kind, subdomain = split_host(request.host, current_app.config["PLATFORM_HOST"])
    except ValueError:
        abort(400)
    g.host_kind = kind
    if kind == HostKind.PLATFORM:
        return
    database = current_app.config["SQLALCHEMY_DATABASE_URI"]
    tenant = cached_tenant(db.session, database, subdomain, _tenant_for_host)
    # A signed-up tenant that has not gone live yet is not there for its customers either.
    if tenant is None or not tenant.is_live:
        abort(404, description="There is no billing portal at this address. Check the link.")
    if not tenant.is_active:
        # Suspended by the platform: said neutrally, the reason is the merchant's business.
        abort(503, description=TEMPORARILY_UNAVAILABLE)
    g.tenant = tenant
    g._tenant_token = set_tenant_id(tenant.id)


# Pages need the tenant's name, brand and settings; its encrypted Stripe credentials are
# loaded (and decrypted) only by the requests that call Stripe.
_CREDENTIALS_DEFERRED = [defer(getattr(Tenant, name)) for name in ENCRYPTED_ATTRIBUTES]


def _tenant_for_host(subdomain: str) -> Tenant | None:
    return db.session.execute(
        select(Tenant).where(Tenant.subdomain == subdomain).options(*_CREDENTIALS_DEFERRED)
    ).scalar_one_or_none()


def clear_tenant(_exc=None) -> None:
    token = g.pop("_tenant_token", None)
    if token is not None:
        reset_tenant_id(token)


def require_tenant_host() -> None:
    """Blueprint before_request: the customer portal exists only on a tenant's host."""
    if g.get("host_kind") != HostKind.TENANT:
        abort(404)


def require_platform_host() -> None:
    """Blueprint before_request: dashboard, operators and webhooks live on the bare domain."""
    if g.get("host_kind") != HostKind.PLATFORM:
        abort(404)


def init_resolution(app) -> None:
    install_forgetting_hooks()
    app.before_request(resolve_tenant)
    app.teardown_request(clear_tenant)
