"""Routes of the core blueprint: home, health check, favicon, per-tenant brand CSS."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, g, render_template, request

from app.extensions import db
from app.portal.blueprint import closed_by_the_merchant
from app.portal.login_views import login
from tenants.branding import brand_stylesheet
from tenants.logos import TenantLogo, logo_response

bp = Blueprint("core", __name__)


@bp.route("/", methods=["GET", "POST"])
def home():
    """One address, two audiences: a tenant's host shows its portal login, the bare domain ours."""
    if g.tenant is not None:
        return closed_by_the_merchant() or login()
    if request.method != "GET":
        abort(405)
    return render_template("core/platform_home.html", tenant=None)


@bp.get("/healthz")
def healthz():
    """Liveness: the process answers. Nothing it depends on is checked here (that is /readyz):
    a database outage must take web processes out of rotation, not get every one of them
    restarted by an orchestrator at once."""
    return {"status": "ok"}


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask every host for /favicon.ico, whatever the page's <link rel=icon> says."""
    return current_app.send_static_file("favicon.ico")


@bp.get("/brand.css")
def brand_css():
    if g.tenant is None:
        abort(404)
    response = Response(brand_stylesheet(g.tenant), mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@bp.get("/logo/<string(length=64):content_hash>.png")
def logo(content_hash: str):
    """The tenant's logo, for its portal and its emails; its hash is in the URL, so it is kept
    for a year. Looked up under the host's tenant only: another tenant's hash is a 404."""
    if g.tenant is None:
        abort(404)
    found = db.session.scalars(
        db.select(TenantLogo).where(TenantLogo.content_hash == content_hash)
    ).first()
    if found is None:
        abort(404)
    return logo_response(found)
