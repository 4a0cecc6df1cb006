"""/dashboard/team: owners invite people, change roles, remove members, and manage invitations;
/dashboard/join/<token>: the invited person chooses a name and password and joins.

Every team action is owner-only (roles.owner_required) and reaches only the signed-in merchant's
own tenant: another tenant's member or invitation id is a 404, like a missing one.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.merchant.accounts import user_by_email
from app.merchant.auth_views import _token_page
from app.merchant.blueprint import bp, my_tenant
from app.merchant.forms import ButtonForm, InviteForm, JoinForm, RoleForm
from app.merchant.limits import invite_resend_limits, join_limits, team_invite_limits
from app.merchant.models import MerchantRole
from app.merchant.passwords import PasswordRejected
from app.merchant.roles import owner_required
from app.merchant.tasks import send_team_invite
from app.merchant.team import (
    INVITE_TTL_WORDS,
    AddressHasAccount,
    TeamChangeRefused,
    accept,
    change_role,
    find_invite,
    invite,
    invite_of,
    member_of,
    members_of,
    pending_invites,
    remove,
    revoke,
)
from tenants.models import Tenant
from worker.dispatch import enqueue_after_commit

EXPIRED_FORM = "This form has expired. Go back, reload the page and try again."


def _team_page(form: InviteForm, status: int = 200):
    tenant = my_tenant()
    return render_template(
        "merchant/team.html",
        tenant=None,
        merchant_tenant=tenant,
        members=members_of(tenant.id),
        invites=pending_invites(tenant.id),
        form=form,
        ttl_words=INVITE_TTL_WORDS,
        roles=MerchantRole,
    ), status


def _checked_button(form=None) -> None:
    if not (form or ButtonForm()).validate_on_submit():
        abort(400, EXPIRED_FORM)


@bp.get("/team")
@login_required
@owner_required
def team():
    return _team_page(InviteForm(formdata=None))


@bp.post("/team")
@login_required
@owner_required
@team_invite_limits
def team_invite():
    form = InviteForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400, EXPIRED_FORM)
        return _team_page(form, 400)
    tenant = my_tenant()
    try:
        invitation = invite(tenant.id, current_user, form.email.data)
    except TeamChangeRefused as refused:
        form.email.errors.append(str(refused))
        return _team_page(form, 400)
    enqueue_after_commit(send_team_invite, tenant.id, invitation.id)
    flash(f"We are emailing an invitation to {invitation.email}.", "success")
    return redirect(url_for("merchant.team"))


def _my_invite(invite_id: int):
    invitation = invite_of(my_tenant().id, invite_id)
    if invitation is None:
        abort(404)
    return invitation


@bp.post("/team/invites/<int:invite_id>/resend")
@login_required
@owner_required
@invite_resend_limits
def team_invite_resend(invite_id: int):
    _checked_button()
    invitation = _my_invite(invite_id)
    enqueue_after_commit(send_team_invite, invitation.tenant_id, invitation.id)
    flash(
        f"We are emailing {invitation.email} a new link; the one sent before no longer works.",
        "success",
    )
    return redirect(url_for("merchant.team"))


@bp.post("/team/invites/<int:invite_id>/revoke")
@login_required
@owner_required
def team_invite_revoke(invite_id: int):
    _checked_button()
    invitation = _my_invite(invite_id)
    revoke(invitation)
    flash(f"The invitation to {invitation.email} is withdrawn: its link no longer works.",
          "success")  # fmt: skip
    return redirect(url_for("merchant.team"))


def _my_member(user_id: int):
    member = member_of(my_tenant().id, user_id)
    if member is None:
        abort(404)
    return member


@bp.post("/team/members/<int:user_id>/role")
@login_required
@owner_required
def team_member_role(user_id: int):
    form = RoleForm()
    _checked_button(form)
    member = _my_member(user_id)
    try:
        change_role(member, form.role.data)
    except TeamChangeRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(url_for("merchant.team"))
    now = "an owner" if member.role == MerchantRole.OWNER else "a member"
    flash(f"{member.name} is now {now}.", "success")
    if member.id == current_user.id and member.role != MerchantRole.OWNER:
        return redirect(url_for("merchant.home"))  # the team page is for owners
    return redirect(url_for("merchant.team"))


@bp.route("/team/members/<int:user_id>/remove", methods=["GET", "POST"])
@login_required
@owner_required
def team_member_remove(user_id: int):
    """GET asks to confirm, saying what removing does; POST removes."""
    member = _my_member(user_id)
    form = ButtonForm()
    if request.method == "GET":
        return render_template(
            "merchant/team_remove.html",
            tenant=None,
            merchant_tenant=my_tenant(),
            member=member,
            form=form,
        )
    _checked_button(form)
    name = member.name
    try:
        remove(member, current_user)
    except TeamChangeRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(url_for("merchant.team"))
    flash(f"{name} is removed from your team and signed out everywhere.", "success")
    return redirect(url_for("merchant.team"))


# Accepting an invitation ---------------------------------------------------------------------


@bp.route("/join/<token>", methods=["GET", "POST"])
@join_limits
def join(token: str):
    invitation = find_invite(token)
    if invitation is None:
        return _token_page(
            "merchant/link_invalid.html",
            410,
            reason="This invitation was already used, withdrawn, replaced by a newer email, or it "
            "expired. Ask the person who invited you to send it again.",
        )
    business = db.session.get(Tenant, invitation.tenant_id).name
    context = {"invitation": invitation, "business": business}
    if current_user.is_authenticated:
        # Never turn the signed-in account into someone else's member: sign out first.
        return _token_page("merchant/join_refused.html", 409, signed_in=True,
                           **context)  # fmt: skip
    if user_by_email(invitation.email) is not None:
        return _token_page("merchant/join_refused.html", 409, **context)
    form = JoinForm()
    if form.validate_on_submit():
        try:
            user = accept(token, form.name.data, form.password.data)
        except PasswordRejected as exc:
            db.session.rollback()
            form.password.errors.append(str(exc))
        except ValueError as exc:  # the name's rules
            db.session.rollback()
            form.name.errors.append(str(exc)[:1].upper() + str(exc)[1:])
        except (AddressHasAccount, IntegrityError):  # an account took the address meanwhile
            db.session.rollback()
            return _token_page("merchant/join_refused.html", 409, **context)
        else:
            if user is None:
                db.session.rollback()
                return _token_page("merchant/link_invalid.html", 410)
            flash(f"Welcome to the team of {business}. Sign in with your email and password.",
                  "success")  # fmt: skip
            response = redirect(url_for("merchant.login"))
            response.headers["Referrer-Policy"] = "no-referrer"
            return response
    elif form.csrf_token.errors:
        return _token_page("merchant/join.html", 400, form=form,
                           form_error=EXPIRED_FORM, **context)  # fmt: skip
    return _token_page("merchant/join.html", 400 if form.errors else 200, form=form, **context)
