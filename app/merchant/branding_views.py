"""/dashboard/branding: the portal's and emails' look, a live preview of unsaved values, and a
test email. The preview renders the real templates (the portal's sign-in page, the signed-in
account page for a sample customer, the sign-in email) with the values in its query string and
stores nothing."""

from __future__ import annotations

from flask import Response, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.emails.render import render_email
from app.merchant.account_preview import SampleCustomerUser, sample_account
from app.merchant.blueprint import bp, my_tenant
from app.merchant.branding import (
    FIELDS,
    BrandingRefused,
    apply_branding,
    contrast_warnings,
    preview_tenant,
)
from app.merchant.emails import SAMPLE_CODE
from app.merchant.forms import BrandingForm, ButtonForm, LogoForm
from app.merchant.limits import logo_upload_limits, test_email_limits
from app.merchant.logos import MAX_BYTES, LogoRefused, logo_by_hash, remove_logo, replace_logo
from app.merchant.tasks import send_test_sign_in_email
from app.portal.forms import EmailForm
from app.portal.tokens import TOKEN_TTL
from tenants.branding import brand_stylesheet
from tenants.context import tenant_context
from tenants.logos import logo_response
from worker.dispatch import enqueue_after_commit

# The preview is framed by the branding page only; the email's HTML keeps its inline styles
# (what mail clients read), so that frame allows inline style and nothing else runs.
PORTAL_PREVIEW_CSP = (
    "default-src 'self'; script-src 'none'; img-src 'self' data: https:; style-src 'self'; "
    "form-action 'none'; base-uri 'none'; object-src 'none'; frame-ancestors 'self'"
)
EMAIL_PREVIEW_CSP = (
    "default-src 'none'; img-src 'self' data: https:; style-src 'unsafe-inline'; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'self'"
)


def _form_of(tenant) -> BrandingForm:
    return BrandingForm(
        formdata=None,
        display_name=tenant.name,
        primary_color=tenant.primary_color,
        accent_color=tenant.accent_color,
        sender_name=tenant.sender_name or "",
        support_email=tenant.support_email or "",
        support_url=tenant.support_url or "",
    )


def _submitted(form: BrandingForm) -> dict[str, str]:
    return {name: getattr(form, name).data or "" for name in FIELDS}


@bp.route("/branding", methods=["GET", "POST"])
@login_required
def branding():
    tenant = my_tenant()
    form = BrandingForm()
    if form.validate_on_submit():
        try:
            apply_branding(tenant, _submitted(form))
        except BrandingRefused as refused:
            for name, message in refused.errors.items():
                getattr(form, name).errors = [message]
        else:
            flash("Saved. Your portal and emails use this branding now.", "success")
            return redirect(url_for("merchant.branding"))
    elif form.is_submitted():
        if "csrf_token" in form.errors:
            return _page(form, 400)
    else:
        form = _form_of(tenant)
    return _page(form, 400 if form.errors else 200)


def _page(form: BrandingForm, status: int, logo_error: str | None = None):
    tenant = my_tenant()
    shown = preview_tenant(tenant, _submitted(form))
    return render_template(
        "merchant/branding.html",
        tenant=None,
        merchant_tenant=tenant,
        logo_form=LogoForm(),
        logo_url=dashboard_logo_url(tenant),
        logo_error=logo_error,
        form=form,
        warnings=contrast_warnings(shown.primary_color, shown.accent_color),
        preview_query=_submitted(form),
    ), status


@bp.get("/branding/contrast.json")
@login_required
def branding_contrast():
    shown = preview_tenant(my_tenant(), request.args)
    return jsonify(
        warnings=[
            {
                "field": warning.field,
                "label": warning.label,
                "color": warning.check.color,
                "ratio": round(warning.check.ratio, 2),
                "suggestion": warning.check.suggestion,
            }
            for warning in contrast_warnings(shown.primary_color, shown.accent_color)
        ]
    )


@bp.get("/branding/preview.css")
@login_required
def branding_preview_css():
    response = Response(brand_stylesheet(preview_tenant(my_tenant(), request.args)),
                        mimetype="text/css")  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/branding/preview")
@login_required
def branding_preview():
    shown = preview_tenant(my_tenant(), request.args)
    shown.logo_url = dashboard_logo_url(shown)  # served here, on the dashboard's own host
    if request.args.get("page") == "email":
        rendered = render_email(
            shown,
            "login_link",
            current_user.email,
            f"Your {shown.name} billing sign-in link",
            link="#",
            code=SAMPLE_CODE,
            minutes=int(TOKEN_TTL.total_seconds() // 60),
        )
        response = Response(rendered.html, mimetype="text/html")
        response.headers["Content-Security-Policy"] = EMAIL_PREVIEW_CSP
    else:
        g.brand_logo_url = shown.logo_url  # the portal's logo, as the tenant's host shows it
        css = url_for("merchant.branding_preview_css", primary_color=shown.primary_color,
                      accent_color=shown.accent_color)  # fmt: skip
        if request.args.get("page") == "account":
            html = render_template(
                "portal/account.html",
                tenant=shown,
                customers=sample_account(shown),  # made up: no customer's data, no Stripe call
                preview_user=SampleCustomerUser(),
                brand_css_href=css,
                preview=True,
            )
        else:
            html = render_template(
                "portal/login.html",
                tenant=shown,
                form=EmailForm(formdata=None),
                brand_css_href=css,
                preview=True,  # no autofocus: the page is framed inside the dashboard's
            )
        response = Response(html, mimetype="text/html")
        response.headers["Content-Security-Policy"] = PORTAL_PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.post("/branding/test-email")
@login_required
@test_email_limits
def branding_test_email():
    if not ButtonForm().validate_on_submit():
        abort(400)
    enqueue_after_commit(send_test_sign_in_email, current_user.tenant_id, current_user.id)
    flash(f"We are sending the sign-in email, as your customers get it, to {current_user.email}.",
          "success")  # fmt: skip
    return redirect(url_for("merchant.branding"))


@bp.post("/branding/logo")
@login_required
@logo_upload_limits
def branding_logo():
    tenant = my_tenant()
    form = LogoForm()
    if not form.validate_on_submit():
        abort(400)
    upload = form.logo.data
    data = upload.read(MAX_BYTES + 1) if upload else b""
    try:
        with tenant_context(tenant.id):
            replace_logo(tenant, data)
    except LogoRefused as refused:
        return _page(_form_of(tenant), 400, logo_error=str(refused))
    flash("Your new logo is on your portal and in your emails.", "success")
    return redirect(url_for("merchant.branding"))


@bp.post("/branding/logo/remove")
@login_required
def branding_logo_remove():
    tenant = my_tenant()
    if not ButtonForm().validate_on_submit():
        abort(400)
    with tenant_context(tenant.id):
        remove_logo(tenant)
    flash("Your logo is removed; the portal shows your name instead.", "success")
    return redirect(url_for("merchant.branding"))


@bp.get("/branding/logo/<string(length=64):content_hash>.png")
@login_required
def branding_logo_image(content_hash: str):
    """The merchant's own logo on the dashboard's host, for the page and its preview."""
    with tenant_context(my_tenant().id):
        found = logo_by_hash(content_hash)
        if found is None:
            abort(404)
        return logo_response(found)


def dashboard_logo_url(tenant) -> str | None:
    """The tenant's stored logo as the dashboard's host serves it; an https one as it is."""
    url = tenant.logo_url
    if url and url.startswith("/logo/"):
        content_hash = url.removeprefix("/logo/").split(".")[0]
        return url_for("merchant.branding_logo_image", content_hash=content_hash, _external=True)
    return url
