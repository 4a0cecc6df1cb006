"""The console's pages and actions: health by the written rules on seeded data in a fixed
number of queries, a tenant's detail, replay, resync, suspend and resume, each audited, each
refused without its CSRF token, by GET, or for another tenant's event."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.billing.models.events import EventStatus, StripeEvent
from app.billing.models.sync_state import BackfillStatus, SyncState
from app.emails.models import DeliveryStatus, EmailDelivery
from app.extensions import db
from app.ops.models import AuditEntry
from app.ops.tenant_health import FAILING, OK, WARNING, tenant_figures
from tenants.context import tenant_context
from tests.conftest import CONNECT_WEBHOOK_SECRET
from tests.ops.conftest import sign_in
from tests.support.cached_rows import cache, price, subscription
from tests.support.portal_client import csrf_from
from tests.support.queries import count_queries
from tests.support.signing import encode, make_event, signature_header

NOW = datetime.now(UTC)


def add_event(
    tenant_id: int,
    status: str = EventStatus.PROCESSED,
    *,
    age=timedelta(0),
    error: str | None = None,
    type_: str = "balance.available",
) -> int:
    event = make_event(type_)
    with tenant_context(tenant_id):
        row = StripeEvent(
            stripe_id=event["id"],
            type=type_,
            payload=event,
            status=status,
            received_at=datetime.now(UTC) - age,
            last_error=error,
            attempts=3 if error else 1,
            processed_at=datetime.now(UTC) - age if status == EventStatus.PROCESSED else None,
        )
        db.session.add(row)
        db.session.commit()
        return row.id


@pytest.fixture
def signed_in(console, make_operator):
    make_operator()
    sign_in(console)
    return console


def seeded(make_tenant) -> dict[str, int]:
    calm = make_tenant("calm", stripe_account="acct_calm0001")
    add_event(calm.id)
    revoked = make_tenant("revoked")
    revoked.mark_disconnected("Stripe refused to renew Billfold's access.")
    backfail = make_tenant("backfail", stripe_account="acct_backfail01")
    with tenant_context(backfail.id):
        db.session.add(SyncState(backfill_status=BackfillStatus.FAILED, backfill_error="boom"))
        db.session.commit()
    failedev = make_tenant("failedev", stripe_account="acct_failedev01")
    add_event(failedev.id, EventStatus.FAILED, error="APIError: outage")
    silent = make_tenant("silent", stripe_account="acct_silent0001")
    add_event(silent.id, age=timedelta(days=2))
    plan = price()
    cache(
        silent.id,
        plan,
        subscription("cus_silent", [plan], current_period_end=int(time.time()) - 3600),
    )
    mails = make_tenant("mails", stripe_account="acct_mails00001")
    add_event(mails.id)
    with tenant_context(mails.id):
        db.session.add(
            EmailDelivery(
                kind="login_link",
                to_email="a@example.com",
                subject="x",
                status=DeliveryStatus.FAILED,
                error="550 refused",
            )
        )
        db.session.commit()
    db.session.commit()
    return {t.subdomain: t.id for t in (calm, revoked, backfail, failedev, silent, mails)}


def test_health_follows_the_written_rules(db_session, make_tenant):
    seeded(make_tenant)
    by_name = {t.subdomain: t for t in tenant_figures()}
    assert (by_name["calm"].health, by_name["calm"].reasons) == (OK, [])
    assert by_name["revoked"].reasons == ["Stripe access revoked"]
    assert by_name["backfail"].reasons == ["Backfill failed"]
    assert by_name["failedev"].reasons == ["Failed events"]
    assert by_name["failedev"].failed_24h == 1
    assert by_name["silent"].reasons == ["No webhook for 24 h while subscriptions renew"]
    assert by_name["mails"].reasons == ["Emails failing"]
    assert by_name["mails"].health == WARNING
    for name in ("revoked", "backfail", "failedev", "silent"):
        assert by_name[name].health == FAILING, name


def test_one_tenants_figures_are_its_row_of_the_list(db_session, make_tenant):
    """A tenant's own page reads only that tenant's figures, and they are the list's."""
    seeded(make_tenant)
    listed_rows = {t.id: t for t in tenant_figures()}
    for tenant_id, row in listed_rows.items():
        [own] = tenant_figures(row.now, only=tenant_id)
        assert (own.subdomain, own.health, own.reasons) == (row.subdomain, row.health, row.reasons)
        assert (own.failed, own.failed_24h, own.pending, own.last_webhook_at) == (
            row.failed, row.failed_24h, row.pending, row.last_webhook_at,
        )  # fmt: skip
        assert (own.customers, own.overdue_renewals, own.emails_failed_24h) == (
            row.customers, row.overdue_renewals, row.emails_failed_24h,
        )  # fmt: skip


def test_the_list_costs_the_same_queries_for_two_tenants_or_twenty(app, db_session, make_tenant):
    for n in range(2):
        add_event(make_tenant(f"few{n}", stripe_account=f"acct_few{n:08d}").id)
    with count_queries(app) as few:
        assert len(tenant_figures()) == 2
    for n in range(18):
        tenant = make_tenant(f"many{n}", stripe_account=f"acct_many{n:08d}")
        add_event(tenant.id)
        add_event(tenant.id, EventStatus.FAILED, error="x")
    with count_queries(app) as many:
        assert len(tenant_figures()) == 20
    assert len(few) == len(many) == 7


def test_the_list_page_searches_filters_and_sorts(signed_in, make_tenant):
    seeded(make_tenant)
    page = signed_in.get("/ops/")
    assert page.status_code == 200
    for rule in (
        "No webhook for 24 h while subscriptions renew",
        "Failed events",
        "Backfill failed",
        "Emails failing",
        "Stripe access revoked",
    ):
        assert rule in page.text
    unhealthy = signed_in.get("/ops/?unhealthy=1").text
    assert ">failedev</a>" in unhealthy and ">calm</a>" not in unhealthy
    found = signed_in.get("/ops/?q=MAIL").text
    assert ">mails</a>" in found and ">calm</a>" not in found
    by_name = signed_in.get("/ops/?sort=subdomain&dir=asc").text
    assert (
        by_name.index(">backfail</a>") < by_name.index(">calm</a>") < by_name.index(">silent</a>")
    )
    worst_first = signed_in.get("/ops/").text
    assert (
        worst_first.index(">failedev</a>")
        < worst_first.index(">mails</a>")
        < worst_first.index(">calm</a>")
    )


def test_the_front_page_draws_the_last_day_with_a_table_behind_it(signed_in, make_tenant):
    tenant = make_tenant("busy", stripe_account="acct_busy00001")
    for _ in range(3):
        add_event(tenant.id)
    add_event(tenant.id, EventStatus.FAILED, error="x")
    page = signed_in.get("/ops/").text
    assert 'role="img"' in page and "<table" in page and 'id="volume-table"' in page
    assert "Queues" in page and "Workers" in page
    assert "<title>" in page and ": 4</title>" in page  # this hour's bar: 4 events


def test_a_tenant_detail_shows_events_failures_emails_and_backfill(signed_in, make_tenant):
    tenant = make_tenant("acme", stripe_account="acct_acme00001")
    add_event(tenant.id)
    add_event(tenant.id, EventStatus.FAILED, error="APIError: Stripe is down")
    with tenant_context(tenant.id):
        db.session.add(
            EmailDelivery(
                kind="login_link",
                to_email="a@example.com",
                subject="x",
                status=DeliveryStatus.FAILED,
                error="550 mailbox full",
            )
        )
        db.session.commit()
    db.session.commit()
    page = signed_in.get(f"/ops/tenants/{tenant.id}")
    assert page.status_code == 200
    assert "APIError: Stripe is down" in page.text and "550 mailbox full" in page.text
    assert "Replay all failed" in page.text and "Resync from Stripe" in page.text
    assert "view as" not in page.text.lower()
    missing = signed_in.get("/ops/tenants/999999")
    assert missing.status_code == 404
    assert 'href="/ops/">Back to the console</a>' in missing.text


def test_replay_puts_a_failed_event_back_and_it_is_processed(signed_in, make_tenant):
    tenant = make_tenant("acme", stripe_account="acct_acme00001")
    event_id = add_event(tenant.id, EventStatus.FAILED, error="APIError: outage")
    page = signed_in.get(f"/ops/tenants/{tenant.id}")
    response = signed_in.post(
        f"/ops/tenants/{tenant.id}/events/{event_id}/replay",
        data={"csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 302
    with tenant_context(tenant.id):
        event = db.session.get(StripeEvent, event_id)
        db.session.refresh(event)
        assert event.status == EventStatus.PROCESSED and event.last_error is None
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "replay_event")).one()
    assert entry.tenant_id == tenant.id and entry.operator_email == "ops@billfold.test"
    assert entry.before["status"] == "failed" and entry.before["last_error"] == "APIError: outage"
    assert entry.after["status"] == "pending"


def test_replay_all_failed(signed_in, make_tenant):
    tenant = make_tenant("acme", stripe_account="acct_acme00001")
    ids = [add_event(tenant.id, EventStatus.FAILED, error="x") for _ in range(3)]
    page = signed_in.get(f"/ops/tenants/{tenant.id}")
    signed_in.post(
        f"/ops/tenants/{tenant.id}/replay-failed", data={"csrf_token": csrf_from(page.text)}
    )
    with tenant_context(tenant.id):
        statuses = db.session.scalars(select(StripeEvent.status).where(StripeEvent.id.in_(ids)))
        assert set(statuses) == {EventStatus.PROCESSED}
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "replay_failed_events")
    ).one()
    assert entry.after == {"events_queued": 3}


def test_an_event_of_another_tenant_cannot_be_replayed_through_a_crafted_id(signed_in, make_tenant):
    mine = make_tenant("mine", stripe_account="acct_mine00001")
    theirs = make_tenant("theirs", stripe_account="acct_theirs0001")
    their_event = add_event(theirs.id, EventStatus.FAILED, error="x")
    page = signed_in.get(f"/ops/tenants/{mine.id}")
    response = signed_in.post(
        f"/ops/tenants/{mine.id}/events/{their_event}/replay",
        data={"csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 404
    with tenant_context(theirs.id):
        assert db.session.get(StripeEvent, their_event).status == EventStatus.FAILED
    assert (
        db.session.scalars(select(AuditEntry).where(AuditEntry.action == "replay_event")).all()
        == []
    )


def test_actions_need_a_post_with_its_csrf_token(signed_in, make_tenant):
    tenant = make_tenant("acme", stripe_account="acct_acme00001")
    event_id = add_event(tenant.id, EventStatus.FAILED, error="x")
    paths = [
        f"/ops/tenants/{tenant.id}/events/{event_id}/replay",
        f"/ops/tenants/{tenant.id}/replay-failed",
        f"/ops/tenants/{tenant.id}/resync",
        f"/ops/tenants/{tenant.id}/suspend",
        f"/ops/tenants/{tenant.id}/resume",
    ]
    for path in paths:
        assert signed_in.get(path).status_code == 405, path
        assert signed_in.post(path, data={"reason": "x"}).status_code == 400, path
    with tenant_context(tenant.id):
        assert db.session.get(StripeEvent, event_id).status == EventStatus.FAILED
    db.session.refresh(tenant)
    assert tenant.status == "active"
    assert db.session.scalars(select(AuditEntry.action)).all() == ["sign_in"]


def test_resync_queues_a_backfill_and_is_audited(signed_in, make_tenant):
    tenant = make_tenant("acme")
    page = signed_in.get(f"/ops/tenants/{tenant.id}")
    signed_in.post(f"/ops/tenants/{tenant.id}/resync", data={"csrf_token": csrf_from(page.text)})
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "resync_tenant")).one()
    assert entry.before == {"backfill_status": "never"}
    assert entry.after == {"backfill_status": "queued"}
    with tenant_context(tenant.id):  # ran at once here: a tenant with no Stripe cannot be copied
        state = db.session.scalars(select(SyncState)).one()
        assert state.backfill_status == BackfillStatus.FAILED


def post_webhook(client, account: str):
    body = encode(make_event("balance.available", account=account))
    return client.post(
        "/webhooks/stripe/connect",
        data=body,
        headers={
            "Stripe-Signature": signature_header(body, CONNECT_WEBHOOK_SECRET),
            "Content-Type": "application/json",
        },
    )


def test_suspend_closes_the_portal_holds_events_and_resume_processes_them(
    signed_in, client_for, make_tenant
):
    tenant = make_tenant("acme", stripe_account="acct_acme00001")
    page = signed_in.get(f"/ops/tenants/{tenant.id}")
    empty = signed_in.post(
        f"/ops/tenants/{tenant.id}/suspend",
        data={"csrf_token": csrf_from(page.text), "reason": " "},
    )
    assert empty.status_code == 302
    db.session.refresh(tenant)
    assert tenant.status == "active"  # no reason, no suspension
    signed_in.post(
        f"/ops/tenants/{tenant.id}/suspend",
        data={"csrf_token": csrf_from(page.text), "reason": "Chargeback fraud review"},
    )
    portal = client_for("acme").get("/login")
    assert portal.status_code == 503
    assert "temporarily unavailable" in portal.text and "fraud" not in portal.text

    for _ in range(2):
        assert post_webhook(client_for(None), "acct_acme00001").status_code == 200
    with tenant_context(tenant.id):
        held = db.session.scalars(select(StripeEvent).order_by(StripeEvent.id)).all()
        assert [e.status for e in held] == [EventStatus.PENDING] * 2  # stored, not processed

    page = signed_in.get(f"/ops/tenants/{tenant.id}")
    assert "Chargeback fraud review" in page.text
    signed_in.post(f"/ops/tenants/{tenant.id}/resume", data={"csrf_token": csrf_from(page.text)})
    assert client_for("acme").get("/login").status_code == 200
    with tenant_context(tenant.id):
        events = db.session.scalars(select(StripeEvent).order_by(StripeEvent.id)).all()
        for event in events:
            db.session.refresh(event)
        assert [e.status for e in events] == [EventStatus.PROCESSED] * 2
        assert events[0].processed_at <= events[1].processed_at  # in the order they arrived
    entries = {e.action: e for e in db.session.scalars(select(AuditEntry))}
    assert entries["suspend_tenant"].after == {
        "status": "suspended",
        "reason": "Chargeback fraud review",
    }
    assert entries["resume_tenant"].before["status"] == "suspended"
    assert entries["resume_tenant"].after == {"status": "active", "events_queued": 2}


def test_a_suspended_merchant_is_told_why_on_the_dashboard(client_for, db_session, make_tenant):
    from app.clock import utcnow
    from app.merchant.models import MerchantUser
    from app.merchant.passwords import hash_password
    from tests.ops.conftest import OPERATOR_PASSWORD, post_form

    tenant = make_tenant("acme")
    tenant.suspend("Unpaid platform invoice")
    db.session.add(
        MerchantUser(
            tenant_id=tenant.id,
            name="Ada",
            email="owner@example.com",
            password_hash=hash_password(OPERATOR_PASSWORD),
            email_verified_at=utcnow(),
        )
    )
    db.session.commit()
    dashboard = client_for(None)
    post_form(
        dashboard, "/dashboard/login", {"email": "owner@example.com", "password": OPERATOR_PASSWORD}
    )
    home = dashboard.get("/dashboard/")
    assert home.status_code == 200
    assert "suspended" in home.text and "Unpaid platform invoice" in home.text


def test_the_audit_log_lists_actions_and_the_database_refuses_to_change_it(signed_in, make_tenant):
    tenant = make_tenant("acme")
    page = signed_in.get(f"/ops/tenants/{tenant.id}")
    signed_in.post(
        f"/ops/tenants/{tenant.id}/suspend",
        data={"csrf_token": csrf_from(page.text), "reason": "Review"},
    )
    audit = signed_in.get("/ops/audit")
    assert audit.status_code == 200
    assert "suspend tenant" in audit.text and "ops@billfold.test" in audit.text
    assert "sign in" in audit.text
    for statement in ("UPDATE ops_audit_log SET action = 'nothing'", "DELETE FROM ops_audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
            db.session.execute(text(statement))


def test_the_command_line_suspends_and_resumes_as_the_console_does(
    app, db_session, client_for, make_tenant
):
    """`flask tenants set --status` takes the console's path: a reason is required, the
    waiting events are queued on resume, and both changes are in the audit log."""
    tenant = make_tenant("acme", stripe_account="acct_acme00002")
    cli = app.test_cli_runner()

    refused = cli.invoke(args=["tenants", "set", "acme", "--status", "suspended"])
    assert refused.exit_code != 0 and "Say why the tenant is suspended" in refused.output
    db.session.refresh(tenant)
    assert tenant.status == "active"

    done = cli.invoke(args=["tenants", "set", "acme", "--status", "suspended",
                            "--reason", "Unpaid platform invoice"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert client_for("acme").get("/login").status_code == 503
    assert post_webhook(client_for(None), "acct_acme00002").status_code == 200

    resumed = cli.invoke(args=["tenants", "set", "acme", "--status", "active"])
    assert resumed.exit_code == 0, resumed.output
    db.session.expire_all()
    with tenant_context(tenant.id):
        event = db.session.scalars(select(StripeEvent)).one()
        assert event.status == EventStatus.PROCESSED  # queued on resume, not left waiting
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["suspend_tenant", "resume_tenant"]
    assert all(e.operator_email.startswith("command line (user ") for e in entries)
    assert all(e.operator_id is None for e in entries)
    assert entries[0].after["reason"] == "Unpaid platform invoice"
    assert entries[1].after == {"status": "active", "events_queued": 1}

    again = cli.invoke(args=["tenants", "set", "acme", "--status", "active"])
    assert again.exit_code == 0  # already active: nothing to do, nothing recorded
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 2
