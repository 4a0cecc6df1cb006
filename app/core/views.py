"""Routes of the core blueprint: home, health check, per-tenant brand CSS."""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, render_template
from sqlalchemy import text

from app.core.branding import brand_stylesheet
from app.extensions import db

bp = Blueprint("core", __name__)


@bp.get("/")
def home():
    if g.tenant is not None:
        return render_template("core/tenant_home.html", tenant=g.tenant)
    return render_template("core/platform_home.html", tenant=None)


@bp.get("/healthz")
def healthz():
    """Liveness and database reachability, for load balancers and the benchmarks' baseline."""
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}


@bp.get("/brand.css")
def brand_css():
    if g.tenant is None:
        abort(404)
    response = Response(brand_stylesheet(g.tenant), mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response
