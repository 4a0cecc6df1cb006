"""The dashboard blueprint: served on the bare platform host only (a tenant's host answers 404),
with the helpers every page uses to reach the signed-in merchant's own tenant and nothing else."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user

from app.extensions import db
from app.merchant.roles import is_owner
from tenants.models import Tenant
from tenants.resolution import require_platform_host

bp = Blueprint("merchant", __name__, url_prefix="/dashboard")
bp.before_request(require_platform_host)


@bp.after_request
def dashboard_pages_are_not_stored(response):
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.context_processor
def merchant_role():
    """Pages hide what a member may not do (the server refuses it anyway: roles.py)."""
    return {"is_owner": is_owner()}


def my_tenant() -> Tenant:
    """The signed-in merchant's tenant: the only one any dashboard page reads or changes."""
    tenant = db.session.get(Tenant, current_user.tenant_id)
    if tenant is None:
        abort(404)
    return tenant
