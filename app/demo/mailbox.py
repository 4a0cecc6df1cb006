"""The demo's mailbox: emails kept by MAIL_CAPTURE, listed at /dev/mailbox on the platform host."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select

from app.emails.models import EmailDelivery
from app.extensions import db
from tenants.context import unscoped
from tenants.models import Tenant
from tenants.resolution import require_platform_host

bp = Blueprint("mailbox", __name__, url_prefix="/dev/mailbox")
bp.before_request(require_platform_host)


@bp.before_request
def _only_when_capturing():
    if not current_app.config.get("MAIL_CAPTURE"):
        abort(404)


@bp.get("/")
def inbox():
    with unscoped():
        rows = db.session.execute(
            select(EmailDelivery, Tenant.name)
            .join(Tenant, Tenant.id == EmailDelivery.tenant_id)
            .order_by(EmailDelivery.id.desc())
            .limit(50)
        ).all()
    return render_template("demo/mailbox.html", deliveries=rows, tenant=None)


@bp.get("/<int:delivery_id>")
def message(delivery_id: int):
    with unscoped():
        delivery = db.session.get(EmailDelivery, delivery_id)
    if delivery is None or not delivery.captured_html:
        abort(404)
    response = current_app.response_class(delivery.captured_html, mimetype="text/html")
    # Email HTML carries inline styles by necessity; allow them for this one document only.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' http: https: data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )
    return response
