"""A signed-in merchant's settings: password, email address, the portal's subdomain."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required, login_user
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.merchant.accounts import (
    EmailChangeRefused,
    change_password,
    check_email_change,
    confirm_email_change,
)
from app.merchant.auth_views import _token_page
from app.merchant.blueprint import bp, my_tenant
from app.merchant.forms import (
    ButtonForm,
    ChangeEmailForm,
    ChangePasswordForm,
    SubdomainConfirmForm,
    SubdomainForm,
)
from app.merchant.limits import current_password_limits, resend_limits
from app.merchant.models import TokenPurpose
from app.merchant.passwords import PasswordRejected
from app.merchant.subdomains import SubdomainTaken, change_subdomain, check_subdomain, is_taken
from app.merchant.tasks import send_email_change_link
from app.merchant.tokens import find_usable_token
from tenants.urls import portal_url, subdomain_url
from worker.dispatch import enqueue_after_commit


def _page(template: str, status: int = 200, **context):
    return render_template(template, tenant=None, merchant_tenant=my_tenant(), **context), status


@bp.get("/settings")
@login_required
def settings():
    return _page("merchant/settings.html")


@bp.route("/settings/password", methods=["GET", "POST"])
@login_required
@current_password_limits
def password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_password(current_user, form.current_password.data, form.new_password.data)
        except PasswordRejected as exc:
            field = form.current_password if "current" in str(exc) else form.new_password
            field.errors.append(str(exc))
        else:
            login_user(current_user._get_current_object())
            flash("Your password is changed. Your other devices are signed out.", "success")
            return redirect(url_for("merchant.settings"))
    return _page("merchant/password.html", 400 if form.errors else 200, form=form)


@bp.route("/settings/email", methods=["GET", "POST"])
@login_required
@current_password_limits
@resend_limits
def email():
    form = ChangeEmailForm()
    if form.validate_on_submit():
        try:
            new_email = check_email_change(
                current_user, form.current_password.data, form.email.data
            )
        except EmailChangeRefused as exc:
            field = form.current_password if "password" in str(exc) else form.email
            field.errors.append(str(exc))
        else:
            enqueue_after_commit(
                send_email_change_link, current_user.tenant_id, current_user.id, new_email
            )
            flash(
                f"We sent a link to {new_email}. Your address changes when you open it; "
                "until then you keep using this one.",
                "success",
            )
            return redirect(url_for("merchant.settings"))
    return _page("merchant/email.html", 400 if form.errors else 200, form=form)


@bp.get("/confirm-email/<token>")
def confirm_email_link(token: str):
    if find_usable_token(token, TokenPurpose.CHANGE_EMAIL) is None:
        return _token_page("merchant/link_invalid.html", 410)
    return _token_page("merchant/confirm_link.html", form=ButtonForm(), action="change_email")


@bp.post("/confirm-email/<token>")
def spend_email_link(token: str):
    if not ButtonForm().validate_on_submit():
        return redirect(url_for("merchant.confirm_email_link", token=token))
    try:
        user = confirm_email_change(token)
        db.session.flush()  # an address taken meanwhile fails here, inside the try
    except (EmailChangeRefused, IntegrityError) as exc:
        db.session.rollback()
        message = str(exc) if isinstance(exc, EmailChangeRefused) else None
        return _token_page("merchant/link_invalid.html", 409, reason=message)
    if user is None:
        db.session.rollback()
        return _token_page("merchant/link_invalid.html", 410)
    flash(f"Your Billfold account now uses {user.email}.", "success")
    response = redirect(url_for("merchant.home"))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/settings/subdomain", methods=["GET", "POST"])
@login_required
def subdomain():
    """Step one: the new subdomain, checked; step two (confirm_subdomain) moves the portal."""
    tenant = my_tenant()
    form = SubdomainForm()
    if form.validate_on_submit():
        try:
            new = check_subdomain(form.subdomain.data)
            if new == tenant.subdomain:
                raise ValueError("That is your portal's address already.")
            if is_taken(new):
                raise SubdomainTaken(new)
        except ValueError as exc:
            form.subdomain.errors.append(str(exc))
        else:
            confirm = SubdomainConfirmForm(formdata=None, subdomain=new)
            return _page(
                "merchant/subdomain_confirm.html",
                form=confirm,
                old_url=portal_url(tenant),
                new_url=subdomain_url(new),
            )
    return _page(
        "merchant/subdomain.html", 400 if form.errors else 200, form=form, url=portal_url(tenant)
    )


@bp.post("/settings/subdomain/confirm")
@login_required
def confirm_subdomain():
    tenant = my_tenant()
    form = SubdomainConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("merchant.subdomain"))
    retry = SubdomainForm(formdata=None, subdomain=form.subdomain.data)
    try:
        change_subdomain(tenant, form.subdomain.data)
        db.session.flush()  # a subdomain taken meanwhile fails here, inside the try
    except IntegrityError:  # taken between the two steps, by a sign-up or another change
        db.session.rollback()
        retry.subdomain.errors = [str(SubdomainTaken(form.subdomain.data))]
    except ValueError as exc:
        db.session.rollback()
        retry.subdomain.errors = [str(exc)]
    if retry.subdomain.errors:
        tenant = my_tenant()
        return _page("merchant/subdomain.html", 400, form=retry, url=portal_url(tenant))
    flash(f"Your portal is now at {portal_url(tenant)}.", "success")
    return redirect(url_for("merchant.home"))
