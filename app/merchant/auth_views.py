"""Signing up, verifying the address, signing in and out, and the forgotten password."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.merchant.accounts import (
    SignUp,
    SignUpRefused,
    check_login,
    end_session,
    reset_password,
    sign_up,
    start_session,
    user_by_email,
    verify_email,
)
from app.merchant.blueprint import bp
from app.merchant.forms import ButtonForm, EmailForm, LoginForm, NewPasswordForm, SignupForm
from app.merchant.golive import go_live_if_ready
from app.merchant.limits import login_limits, resend_limits, reset_limits, signup_limits
from app.merchant.models import TokenPurpose
from app.merchant.passwords import PasswordRejected
from app.merchant.subdomains import SubdomainTaken, is_taken, suggest_subdomain
from app.merchant.tasks import (
    send_existing_account_note,
    send_password_reset,
    send_verification_email,
)
from app.merchant.tokens import find_usable_token
from app.security import first_party_only
from tenants.models import Tenant
from worker.dispatch import enqueue_after_commit


@bp.route("/signup", methods=["GET", "POST"])
@signup_limits
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("merchant.home"))
    form = SignupForm()
    if request.method == "GET":
        return render_template("merchant/signup.html", form=form, tenant=None)
    if form.validate_on_submit() and not form.subdomain.data:
        # No JavaScript filled it in: suggest one from the business name, for the person to check.
        form.subdomain.data = suggest_subdomain(form.business_name.data)
        message = (
            "We suggested an address from your business name. Check it, then create your account."
        )
        if not form.subdomain.data:
            form.subdomain.errors.append("Choose the address of your customers' billing portal.")
            return render_template("merchant/signup.html", form=form, tenant=None), 400
        return render_template(
            "merchant/signup.html", form=form, tenant=None, suggestion=message
        ), 200
    if not form.errors:
        try:
            outcome = sign_up(
                form.business_name.data,
                form.name.data,
                form.email.data,
                form.password.data,
                form.subdomain.data,
            )
            db.session.flush()
            _queue_signup_email(outcome)
        except IntegrityError as exc:
            db.session.rollback()
            outcome = _after_a_lost_race(form, exc)
        except SubdomainTaken as exc:
            db.session.rollback()
            form.subdomain.errors.append(str(exc))
            outcome = None
        except SignUpRefused as exc:
            db.session.rollback()
            getattr(form, exc.field).errors.append(str(exc))
            outcome = None
        if outcome is not None:
            session["signup_email"] = form.email.data
            return redirect(url_for("merchant.signup_sent"))
    return render_template("merchant/signup.html", form=form, tenant=None), 400


def _queue_signup_email(outcome: SignUp) -> None:
    if outcome.user is not None:
        enqueue_after_commit(send_verification_email, outcome.user.tenant_id, outcome.user.id)
    else:
        existing = outcome.existing
        enqueue_after_commit(send_existing_account_note, existing.tenant_id, existing.id)


def _after_a_lost_race(form: SignupForm, exc: IntegrityError) -> SignUp | None:
    """Another sign-up committed the same subdomain or address between our check and our
    insert: nothing of ours was written (one transaction, rolled back). Answer as if it had
    been there when we checked."""
    if is_taken(form.subdomain.data):
        form.subdomain.errors.append(str(SubdomainTaken(form.subdomain.data)))
        return None
    existing = user_by_email(form.email.data)
    if existing is None:
        raise exc  # neither constraint: a real fault, shown as one
    outcome = SignUp(existing=existing)
    _queue_signup_email(outcome)
    return outcome


@bp.get("/signup/check-email")
def signup_sent():
    email = session.get("signup_email")
    if not email:
        return redirect(url_for("merchant.signup"))
    return render_template("merchant/signup_sent.html", email=email, tenant=None)


def _token_page(template: str, status: int = 200, **context):
    """A page whose URL holds a token: first party only, and only our origin sees it as a
    Referer (as the portal's sign-in link; see app/portal/login_views.py)."""
    first_party_only()
    response = make_response(render_template(template, tenant=None, **context), status)
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/verify/<token>")
def confirm_verification(token: str):
    """Opening the link only shows a button: mail scanners that fetch links spend nothing."""
    if find_usable_token(token, TokenPurpose.VERIFY_EMAIL) is None:
        return _token_page("merchant/link_invalid.html", 410)
    return _token_page("merchant/confirm_link.html", form=ButtonForm(), action="verify")


@bp.post("/verify/<token>")
def spend_verification(token: str):
    first_party_only()
    if not ButtonForm().validate_on_submit():
        return redirect(url_for("merchant.confirm_verification", token=token))
    user = verify_email(token)
    if user is None:
        db.session.rollback()
        return _token_page("merchant/link_invalid.html", 410)
    go_live_if_ready(db.session.get(Tenant, user.tenant_id))
    if current_user.is_authenticated:
        flash("Your email address is verified.", "success")
        response = redirect(url_for("merchant.home"))
    else:
        flash("Your email address is verified. Sign in to see your portal's link.", "success")
        response = redirect(url_for("merchant.login"))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.post("/resend-verification")
@login_required
@resend_limits
def resend_verification():
    if ButtonForm().validate_on_submit() and not current_user.email_verified:
        enqueue_after_commit(send_verification_email, current_user.tenant_id, current_user.id)
        flash(f"We sent a new link to {current_user.email}.", "success")
    return redirect(url_for("merchant.home"))


@bp.route("/login", methods=["GET", "POST"])
@login_limits
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("merchant.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = check_login(form.email.data, form.password.data)
        if user is not None:
            start_session(user)
            return redirect(url_for("merchant.home"))
        form.password.errors.append("That email and password do not match.")
    status = 400 if form.errors else 200
    return render_template("merchant/login.html", form=form, tenant=None), status


@bp.post("/logout")
def logout():
    if ButtonForm().validate_on_submit():
        end_session()
        flash("You are signed out.", "success")
    return redirect(url_for("merchant.login"))


@bp.route("/forgot", methods=["GET", "POST"])
@reset_limits
def forgot_password():
    """Always the same answer, after the same work: one task queued, whoever the address is."""
    form = EmailForm()
    if form.validate_on_submit():
        enqueue_after_commit(send_password_reset, form.email.data)
        session["reset_email"] = form.email.data
        return redirect(url_for("merchant.reset_sent"))
    status = 400 if form.errors else 200
    return render_template("merchant/forgot.html", form=form, tenant=None), status


@bp.get("/forgot/sent")
def reset_sent():
    email = session.get("reset_email")
    if not email:
        return redirect(url_for("merchant.forgot_password"))
    return render_template("merchant/reset_sent.html", email=email, tenant=None)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    form = NewPasswordForm()
    if find_usable_token(token, TokenPurpose.RESET_PASSWORD) is None:
        return _token_page("merchant/link_invalid.html", 410)
    if form.validate_on_submit():
        try:
            user = reset_password(token, form.new_password.data)
        except PasswordRejected as exc:
            db.session.rollback()
            form.new_password.errors.append(str(exc))
        else:
            if user is None:
                db.session.rollback()
                return _token_page("merchant/link_invalid.html", 410)
            end_session()  # whatever this browser had: sign in afresh with the new password
            flash("Your password is changed. Sign in with it now.", "success")
            response = redirect(url_for("merchant.login"))
            response.headers["Referrer-Policy"] = "no-referrer"
            return response
    return _token_page("merchant/reset.html", 400 if form.errors else 200, form=form)
