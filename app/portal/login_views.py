"""Signing in: ask for an email link, confirm it, type the code, or use a password."""

from __future__ import annotations

from flask import flash, g, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from app.extensions import db
from app.portal.accounts import (
    check_password_login,
    end_every_session,
    end_session,
    start_session,
    user_for_email,
)
from app.portal.activity import record_sign_in
from app.portal.blueprint import bp
from app.portal.forms import CodeForm, ConfirmForm, EmailForm, PasswordLoginForm
from app.portal.limits import code_limits, login_link_limits, password_limits
from app.portal.sources import clean_source, prefill_email
from app.portal.tasks import send_login_email
from app.portal.tokens import find_usable_token, spend_code, spend_link_token
from app.security import first_party_only
from worker.dispatch import enqueue_after_commit


@bp.route("/login", methods=["GET", "POST"])
@login_link_limits
def login():
    """The merchant's portal login link: ask for an email, always answer the same way."""
    if current_user.is_authenticated:
        return redirect(url_for("portal.account"))
    form = EmailForm()
    if request.method == "GET":  # a link from the merchant's site may pre-fill the form
        form.email.data = prefill_email(request.args.get("email"))
        form.src.data = clean_source(request.args.get("src"))
    if form.validate_on_submit():
        # Only a task is queued: known and unknown addresses take the same path and time.
        source = clean_source(form.src.data)
        enqueue_after_commit(send_login_email, g.tenant.id, form.email.data, source=source)
        session["login_email"] = form.email.data
        return redirect(url_for("portal.check_email"))
    status = 400 if form.errors else 200
    return render_template("portal/login.html", form=form, tenant=g.tenant), status


@bp.get("/login/check")
def check_email():
    email = session.get("login_email")
    if not email:
        return redirect(url_for("portal.login"))
    return render_template("portal/check_email.html", email=email, form=CodeForm(), tenant=g.tenant)


@bp.post("/login/code")
@code_limits
def login_with_code():
    email = session.get("login_email")
    if not email:
        return redirect(url_for("portal.login"))
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template(
            "portal/check_email.html", email=email, form=form, tenant=g.tenant
        ), 400
    signed_in_as = spend_code(email, form.code.data)
    if signed_in_as is None:
        # One message whatever the reason (wrong, expired, used up, or no code was ever sent):
        # a different answer would tell a stranger which addresses have a billing account.
        form.code.errors.append(
            "That code did not work. Use the code in the newest email (its link works too), "
            "or ask for a new one below."
        )
        return render_template(
            "portal/check_email.html", email=email, form=form, tenant=g.tenant
        ), 400
    return _finish_login(signed_in_as.email, "email", signed_in_as.source)


@bp.get("/login/verify/<token>")
def confirm_link(token: str):
    """Opening the link only shows a button: mail scanners that fetch links spend nothing."""
    first_party_only()  # the token is in this URL: nothing from another site loads here
    found = find_usable_token(token)
    if found is None:
        response = make_response(render_template("portal/link_invalid.html", tenant=g.tenant), 410)
    else:
        response = make_response(
            render_template(
                "portal/confirm_login.html", email=found.email, form=ConfirmForm(), tenant=g.tenant
            )
        )
    _keep_token_url_first_party(response)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/login/verify/<token>")
def spend_link(token: str):
    first_party_only()
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("portal.confirm_link", token=token))
    spent = spend_link_token(token)
    if spent is None:
        db.session.rollback()
        response = make_response(render_template("portal/link_invalid.html", tenant=g.tenant), 410)
        return _keep_token_url_first_party(response)
    response = _finish_login(spent.email, "email", spent.source)
    # The account page (and any script on it) is not told the token's URL, spent as it is.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/login/password", methods=["GET", "POST"])
@password_limits
def login_with_password():
    form = PasswordLoginForm()
    if form.validate_on_submit():
        user = check_password_login(form.email.data, form.password.data)
        if user is not None:
            return _finish_login(user.email, "password")
        form.password.errors.append("That email and password do not match.")
    status = 400 if form.errors else 200
    return render_template("portal/password_login.html", form=form, tenant=g.tenant), status


@bp.post("/logout")
def logout():
    form = ConfirmForm()
    if form.validate_on_submit():
        end_session()
        flash("You are signed out.", "success")
    return redirect(url_for("portal.login"))


@bp.post("/logout/everywhere")
@login_required
def logout_everywhere():
    form = ConfirmForm()
    if form.validate_on_submit():
        end_every_session(current_user._get_current_object())
        flash("You are signed out on every device.", "success")
    return redirect(url_for("portal.login"))


def _finish_login(email: str, method: str, source: str | None = None):
    user = user_for_email(email)
    start_session(user, method)
    record_sign_in(user.email, method, source)  # committed with the session's row
    # A clean URL: the token never stays in the address bar or history.
    return redirect(url_for("portal.account"))


def _keep_token_url_first_party(response):
    """The token is in this page's URL: only our own origin may see it as a Referer.

    Not "no-referrer": over HTTPS Flask-WTF (WTF_CSRF_SSL_STRICT) refuses a form post without a
    same-origin Referer, and the Continue button failed. "same-origin" sends the URL to this
    very origin only (not another tenant, the platform or a third party; nothing third-party
    loads here: first_party_only; our logs redact it: app/server_logs.py). The token stays in
    the URL rather than moving into the session first: that cookie is signed, not encrypted, and
    would carry the raw token on every request until spent; and two links opened in two tabs
    would overwrite each other.
    """
    response.headers["Referrer-Policy"] = "same-origin"
    return response
