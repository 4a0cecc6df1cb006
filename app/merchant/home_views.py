"""The dashboard's home: the portal login link to put in front of customers, ready to paste,
and until the portal is live, what is missing."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import render_template
from flask_login import login_required

from app.merchant.blueprint import bp, my_tenant
from app.merchant.golive import go_live_if_ready, go_live_steps
from app.merchant.sync_progress import WORTH_SHOWING_AT_HOME, progress_context
from app.portal.sources import PLACEMENTS
from tenants.urls import portal_url


def link_with(tenant, **params) -> str:
    query = urlencode({key: value for key, value in params.items() if value})
    return portal_url(tenant, "/" + (f"?{query}" if query else ""))


@bp.get("/")
@bp.get("")  # registered first, so links say /dashboard
@login_required
def home():
    tenant = my_tenant()
    if not tenant.is_live:
        go_live_if_ready(tenant)  # Stripe may have been connected since the last visit
    steps = go_live_steps(tenant)
    placements = [
        {"slug": slug, "label": label, "where": where, "url": link_with(tenant, src=slug)}
        for slug, label, where in PLACEMENTS
    ]
    progress = progress_context(tenant)
    return render_template(
        "merchant/home.html",
        tenant=None,
        merchant_tenant=tenant,
        show_sync=progress["sync"]["status"] in WORTH_SHOWING_AT_HOME,
        **progress,
        portal_link=portal_url(tenant),
        email_link=portal_url(tenant) + "?email=",
        placements=placements,
        steps=steps,
        missing=[step for step in steps if not step.done],
    )
