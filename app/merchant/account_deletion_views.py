"""/dashboard/settings/delete: the owner deletes the merchant's Billfold account and all its
data, after reading what is erased and typing the portal's subdomain."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for

from app.extensions import db
from app.merchant.account_deletion import (
    ERASED,
    DeletionRefused,
    check_confirmation,
    delete_merchant_account,
)
from app.merchant.accounts import end_session
from app.merchant.blueprint import bp, my_tenant
from app.merchant.forms import DeleteAccountForm
from app.merchant.limits import deletion_limits
from app.merchant.roles import owner_required
from app.stripe_connection.errors import ConnectionRefused


@bp.route("/settings/delete", methods=["GET", "POST"])
@owner_required
@deletion_limits
def delete_account():
    tenant = my_tenant()
    form = DeleteAccountForm()
    error = None
    if form.is_submitted():
        if not form.validate():
            abort(400, description="This form has expired. Reload the page and try again.")
        try:
            check_confirmation(tenant, form.subdomain.data)
            delete_merchant_account(tenant)
        except DeletionRefused as refused:
            form.subdomain.errors = [str(refused)]
        except ConnectionRefused as refused:
            db.session.rollback()  # nothing erased: the account stays as it was
            tenant = my_tenant()
            error = f"{refused.message} Nothing has been deleted."
        else:
            end_session()
            flash("Your Billfold account and all its data are deleted. Thank you for using "
                  "Billfold.", "success")  # fmt: skip
            return redirect(url_for("merchant.login"))
    return render_template(
        "merchant/delete_account.html",
        tenant=None,
        merchant_tenant=tenant,
        form=form,
        erased=ERASED,
        error=error,
    ), 400 if (form.errors or error) else 200
