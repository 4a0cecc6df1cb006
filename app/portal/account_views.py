"""Pages of a signed-in customer, all served from the cache: account, invoices, password."""

from __future__ import annotations

import re

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user

from app.billing.invoice_history import histories_unread
from app.portal.account_data import invoice_page, load_account
from app.portal.accounts import PasswordRejected, change_password
from app.portal.blueprint import bp, my_customer_ids, my_customers
from app.portal.forms import SetPasswordForm


@bp.get("/account")
@login_required
def account():
    customers = my_customers()
    views = load_account(g.tenant, customers)
    return render_template(
        "portal/account.html",
        tenant=g.tenant,
        customers=views,
        history_loading={c.stripe_id for c in histories_unread(customers)},
    )


@bp.get("/invoices")
@login_required
def invoices():
    page = request.args.get("page", "1")
    # ASCII digits only: "²".isdigit() is true, yet int("²") fails.
    page = int(page) if re.fullmatch(r"[0-9]{1,4}", page) and int(page) > 0 else 1
    customers = my_customers()
    rows, has_next = invoice_page([c.stripe_id for c in customers], page)
    return render_template(
        "portal/invoices.html",
        tenant=g.tenant,
        invoices=rows,
        page=page,
        has_next=has_next,
        customer_names={c.stripe_id: c.name or c.email for c in customers},
        several_customers=len(my_customer_ids()) > 1,
        history_loading=bool(histories_unread(customers)),
    )


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = SetPasswordForm()
    needs_current = current_user.has_password and session.get("login_method") != "email"
    if form.validate_on_submit():
        try:
            change_password(current_user, form.new_password.data, form.current_password.data)
        except PasswordRejected as exc:
            form.new_password.errors.append(str(exc))
        else:
            # Keep this session (the new version ends the others). The user, not the proxy:
            # a proxy stored as the logged-in user would resolve to itself.
            login_user(current_user._get_current_object())
            flash("Your password is set. You can also still sign in with an email link.", "success")
            return redirect(url_for("portal.account"))
    status = 400 if form.errors else 200
    return render_template(
        "portal/password.html",
        tenant=g.tenant,
        form=form,
        needs_current=needs_current,
    ), status
