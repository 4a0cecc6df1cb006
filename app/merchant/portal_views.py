"""/dashboard/portal: what the merchant's customers may do in the portal, and closing it."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import login_required

from app.merchant.blueprint import bp, my_tenant
from app.merchant.forms import PortalSettingsForm
from app.merchant.portal_settings import (
    TOGGLES,
    PortalSettings,
    SettingsRefused,
    apply_portal_settings,
)
from tenants.timezones import zone_choices
from tenants.urls import portal_url


def _form_of(tenant) -> PortalSettingsForm:
    return PortalSettingsForm(
        formdata=None,
        **{name: getattr(tenant, name) for name in TOGGLES},
        cancel_reasons="\n".join(tenant.cancel_reasons or []),
        return_url=tenant.return_url or "",
        portal_closed=tenant.portal_closed,
        closed_message=tenant.portal_closed_message or "",
        timezone=tenant.timezone or "",
    )


@bp.route("/portal", methods=["GET", "POST"])
@login_required
def portal_settings():
    tenant = my_tenant()
    form = PortalSettingsForm()
    if form.is_submitted() and not form.validate():
        if "csrf_token" in form.errors:
            return _page(form, 400)
    elif form.is_submitted():
        settings = PortalSettings(
            toggles={name: getattr(form, name).data for name in TOGGLES},
            cancel_reasons=form.cancel_reasons.data or "",
            return_url=form.return_url.data or "",
            portal_closed=form.portal_closed.data,
            closed_message=form.closed_message.data or "",
            timezone=form.timezone.data or "",
        )
        try:
            apply_portal_settings(tenant, settings)
        except SettingsRefused as refused:
            for name, message in refused.errors.items():
                getattr(form, name).errors = [message]
        else:
            flash(
                "Your portal is closed to customers." if tenant.portal_closed
                else "Saved. Your portal follows these settings now.",
                "success",
            )  # fmt: skip
            return redirect(url_for("merchant.portal_settings"))
    else:
        form = _form_of(tenant)
    return _page(form, 400 if form.errors else 200)


def _page(form: PortalSettingsForm, status: int):
    tenant = my_tenant()
    choices = zone_choices()
    if tenant.timezone and tenant.timezone not in dict(choices):
        choices.insert(0, (tenant.timezone, tenant.timezone))  # set from the CLI: kept, shown
    form.timezone.choices = [("", "UTC (none chosen)"), *choices]
    return render_template(
        "merchant/portal_settings.html",
        tenant=None,
        merchant_tenant=tenant,
        form=form,
        portal_address=portal_url(tenant),
    ), status
