"""Operators' sign-in: the setup link, the password, then the authenticator (enrolled by QR code
at the first sign-in, with recovery codes shown once), and sign-out."""

from __future__ import annotations

from flask import flash, redirect, render_template, session, url_for

from app.clock import utcnow
from app.ops.accounts import (
    PENDING_KEY,
    PasswordRejected,
    check_password,
    complete_setup,
    end_session,
    operator_for_setup,
    pending_operator,
    remember_password_passed,
    start_session,
)
from app.ops.audit import record
from app.ops.blueprint import console, current_operator
from app.ops.enrolment import grouped, qr_code_svg, secret_to_enrol
from app.ops.forms import ButtonForm, CodeForm, EnrolForm, LoginForm, SetupForm
from app.ops.limits import code_limits, login_limits, setup_limits
from app.ops.totp import accept_code, new_recovery_codes, recovery_codes_left, spend_recovery_code
from app.security import first_party_only


@console.route("/setup/<token>", methods=["GET", "POST"])
@setup_limits
def setup(token: str):
    first_party_only()
    if operator_for_setup(token) is None:
        return render_template("ops/link_invalid.html"), 410
    form = SetupForm()
    if form.validate_on_submit():
        try:
            operator = complete_setup(token, form.password.data)
        except PasswordRejected as exc:
            form.password.errors.append(str(exc))
        else:
            record("set_up_account", operator=operator)
            flash("Your password is set. Sign in with it to enrol your authenticator.", "success")
            return redirect(url_for("console.login"))
    return render_template("ops/setup.html", form=form), 400 if form.errors else 200


@console.route("/login", methods=["GET", "POST"])
@login_limits
def login():
    if current_operator() is not None:
        return redirect(url_for("console.home"))
    form = LoginForm()
    if form.validate_on_submit():
        operator = check_password(form.email.data, form.password.data)
        if operator is not None:
            remember_password_passed(operator)
            return redirect(url_for("console.code" if operator.enrolled else "console.enrol"))
        form.password.errors.append("That email and password do not match.")
    return render_template("ops/login.html", form=form), 400 if form.errors else 200


@console.route("/login/code", methods=["GET", "POST"])
@code_limits
def code():
    operator = pending_operator()
    if operator is None or not operator.enrolled:
        return redirect(url_for("console.login"))
    form = CodeForm()
    if form.validate_on_submit():
        typed = form.code.data.strip()
        if accept_code(operator, typed):
            record("sign_in", operator=operator)
            start_session(operator)
            return redirect(url_for("console.home"))
        if not typed.replace(" ", "").isdigit() and spend_recovery_code(operator, typed):
            left = recovery_codes_left(operator)
            record("sign_in_with_recovery_code", operator=operator, after={"codes_left": left})
            start_session(operator)
            flash(
                f"You signed in with a recovery code; {left} left. If your authenticator is "
                "lost, ask another operator to remove your account and create it again.",
                "warning",
            )
            return redirect(url_for("console.home"))
        form.code.errors.append("That code is not right, or was used already.")
    return render_template("ops/code.html", form=form), 400 if form.errors else 200


@console.route("/enrol", methods=["GET", "POST"])
@code_limits
def enrol():
    operator = pending_operator()
    if operator is None:
        return redirect(url_for("console.login"))
    if operator.enrolled:
        return redirect(url_for("console.code"))
    secret = secret_to_enrol(operator)
    form = EnrolForm()
    if form.validate_on_submit():
        if accept_code(operator, form.code.data):
            operator.totp_enrolled_at = utcnow()
            codes = new_recovery_codes(operator)
            record("enrolled_authenticator", operator=operator)
            start_session(operator)
            # Shown in this answer only: never stored in plain, never shown again.
            return render_template("ops/recovery_codes.html", codes=codes)
        form.code.errors.append("That code is not right. Check the app's clock and try again.")
    return render_template(
        "ops/enrol.html",
        form=form,
        qr=qr_code_svg(secret, operator.email),
        secret=grouped(secret),
        email=operator.email,
    ), 400 if form.errors else 200


@console.post("/logout")
def logout():
    if ButtonForm().validate_on_submit():
        session.pop(PENDING_KEY, None)
        end_session()
        flash("You are signed out.", "success")
    return redirect(url_for("console.login"))
