"""What a customer does in the portal is recorded for the merchant's activity page, with the
action's own record: only what happened, once."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.portal.models import ActivityKind, PortalActivity
from tenants.context import tenant_context
from tests.portal.test_account import action
from tests.portal.test_card_replacement import _new_card
from tests.support.portal_client import csrf_from, link_and_code, sign_in


def recorded(tenant_id) -> list[PortalActivity]:
    db.session.expire_all()
    with tenant_context(tenant_id):
        return list(db.session.scalars(select(PortalActivity).order_by(PortalActivity.id)))


@pytest.fixture
def ada(portal, merchant, smtp_sink):
    sign_in(portal, smtp_sink, "ada@example.com")
    return portal


def test_a_sign_in_is_recorded_with_the_placement_of_its_link(portal, merchant, smtp_sink):
    page = portal.get("/?src=email-footer")
    portal.post(
        "/",
        data={
            "email": "ada@example.com",
            "src": "email-footer",
            "csrf_token": csrf_from(page.text),
        },
    )
    path, _ = link_and_code(smtp_sink.wait_for("ada@example.com"))
    assert recorded(merchant.tenant.id) == []  # asking for a link is not signing in
    confirm = portal.get(path)
    assert portal.post(path, data={"csrf_token": csrf_from(confirm.text)}).status_code == 302
    (row,) = recorded(merchant.tenant.id)
    assert (row.kind, row.email, row.source, row.detail) == (
        ActivityKind.SIGN_IN, "ada@example.com", "email-footer", "email",
    )  # fmt: skip


def test_a_sign_in_by_code_keeps_the_placement_and_a_forged_tag_is_dropped(
    portal, merchant, smtp_sink
):
    page = portal.get("/")
    portal.post(
        "/",
        data={"email": "ada@example.com", "src": "=cmd|evil", "csrf_token": csrf_from(page.text)},
    )
    _, code = link_and_code(smtp_sink.wait_for("ada@example.com"))
    check = portal.get("/login/check")
    wrong = portal.post("/login/code", data={"code": "000000", "csrf_token": csrf_from(check.text)})
    assert wrong.status_code == 400 and recorded(merchant.tenant.id) == []
    right = portal.post("/login/code", data={"code": code, "csrf_token": csrf_from(check.text)})
    assert right.status_code == 302
    (row,) = recorded(merchant.tenant.id)
    assert (row.kind, row.source) == (ActivityKind.SIGN_IN, None)


def test_a_payment_is_recorded_once_with_its_amount(ada, merchant):
    page = ada.get("/invoices")
    path = f"/invoices/{merchant.open_invoice.id}/pay"
    key = "double-submit-key-0123456789"
    action(ada, path, page.text, action_key=key)
    action(ada, path, page.text, action_key=key)
    payments = [r for r in recorded(merchant.tenant.id) if r.kind == ActivityKind.PAYMENT]
    assert len(payments) == 1
    invoice = merchant.stripe.v1.invoices.retrieve(merchant.open_invoice.id)
    assert invoice.status == "paid"
    assert (payments[0].amount, payments[0].currency) == (invoice.amount_paid, invoice.currency)
    assert payments[0].object_id == invoice.id and payments[0].email == "ada@example.com"


def test_cancelling_with_a_reason_and_reactivating_are_recorded(ada, merchant):
    merchant.tenant.ask_cancel_reason = True
    merchant.tenant.cancel_reasons = ["Too expensive", "Missing a feature"]
    db.session.commit()
    sub_id = merchant.subscription.id
    confirm = ada.get(f"/subscriptions/{sub_id}/cancel")
    done = action(ada, f"/subscriptions/{sub_id}/cancel", confirm.text,
                  choice="Too expensive", reason="  Half the price elsewhere ")  # fmt: skip
    assert done.status_code == 302
    account = ada.get("/account")
    again = action(ada, f"/subscriptions/{sub_id}/cancel", confirm.text, choice="Too expensive")
    assert again.status_code == 302  # already ending: nothing changes, nothing is recorded
    action(ada, f"/subscriptions/{sub_id}/reactivate", account.text)
    rows = [r for r in recorded(merchant.tenant.id) if r.kind != ActivityKind.SIGN_IN]
    assert [(r.kind, r.object_id) for r in rows] == [
        (ActivityKind.CANCELLATION, sub_id),
        (ActivityKind.REACTIVATION, sub_id),
    ]
    assert (rows[0].reason, rows[0].comment) == ("Too expensive", "Half the price elsewhere")


def test_a_refused_action_records_nothing(ada, merchant):
    merchant.stripe.v1.subscriptions.cancel(merchant.subscription.id)  # ended at Stripe
    confirm = ada.get(f"/subscriptions/{merchant.subscription.id}/cancel")
    merchant.tenant.allow_reactivate = False
    db.session.commit()
    action(ada, f"/subscriptions/{merchant.subscription.id}/cancel", confirm.text)
    kinds = {r.kind for r in recorded(merchant.tenant.id)}
    assert kinds == {ActivityKind.SIGN_IN}


def test_a_replaced_card_is_recorded_with_its_brand_and_last_four(ada, merchant):
    assert _new_card(ada, merchant, merchant.ada_first.id).status_code == 302
    (row,) = [r for r in recorded(merchant.tenant.id) if r.kind == ActivityKind.CARD_REPLACED]
    assert row.detail == "Mastercard ending 4444" and row.object_id == merchant.ada_first.id


def test_a_password_sign_in_is_recorded_as_one_and_a_wrong_password_is_not(portal, merchant):
    from werkzeug.security import generate_password_hash

    from app.portal.models import PortalUser

    with tenant_context(merchant.tenant.id):
        hashed = generate_password_hash("correct horse battery")
        db.session.add(PortalUser(email="ada@example.com", password_hash=hashed))
        db.session.commit()
    page = portal.get("/login/password")
    fields = {"email": "ada@example.com", "csrf_token": csrf_from(page.text)}
    wrong = portal.post("/login/password", data={**fields, "password": "not the password"})
    assert wrong.status_code == 400 and recorded(merchant.tenant.id) == []
    right = portal.post("/login/password", data={**fields, "password": "correct horse battery"})
    assert right.status_code == 302
    (row,) = recorded(merchant.tenant.id)
    assert (row.kind, row.detail, row.source) == (ActivityKind.SIGN_IN, "password", None)
