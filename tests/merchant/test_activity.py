"""/dashboard/activity: what customers did in the portal, recorded with the action itself,
shown to their merchant only, filtered, summed up, exported safely, and kept 13 months."""

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.clock import utcnow
from app.extensions import db
from app.portal.models import ActivityKind, PortalActivity
from app.portal.tasks import forget_old_activity
from tenants.context import tenant_context, unscoped
from tests.merchant.conftest import log_in, merchant_user_for
from tests.support.portal_client import csrf_from

A, B = "acme-owner@example.com", "bravo-owner@example.com"


def seed(tenant, *rows):
    """Activity rows for `tenant`: (kind, email, days ago, extra fields)."""
    now = utcnow()
    with tenant_context(tenant.id):
        for kind, email, days_ago, *extra in rows:
            db.session.add(
                PortalActivity(
                    kind=kind,
                    email=email,
                    occurred_at=now - timedelta(days=days_ago, minutes=1),
                    **(extra[0] if extra else {}),
                )
            )
        db.session.commit()


def dashboard_of(client_for, tenant, email):
    merchant_user_for(tenant, email)
    client = client_for(None)
    assert log_in(client, email).status_code == 302
    return client


@pytest.fixture
def two_merchants(db_session, make_tenant, client_for):
    acme, bravo = make_tenant("acme", name="Acme"), make_tenant("bravo", name="Bravo")
    seed(
        acme,
        (ActivityKind.SIGN_IN, "ada@example.com", 1, {"source": "email-footer"}),
        (ActivityKind.SIGN_IN, "ada@example.com", 2, {"source": "help-center"}),
        (ActivityKind.SIGN_IN, "grace@example.com", 3, {"detail": "password"}),
        (ActivityKind.PAYMENT, "ada@example.com", 2,
         {"amount": 2500, "currency": "eur", "object_id": "in_1"}),
        *[(ActivityKind.CANCELLATION, f"c{n}@example.com", 5, {"reason": "Too expensive"})
          for n in range(4)],
        (ActivityKind.CANCELLATION, "joan@example.com", 6,
         {"reason": "Missing a feature", "comment": "=HYPERLINK(\"http://evil\")"}),
        (ActivityKind.REACTIVATION, "ada@example.com", 40),
    )  # fmt: skip
    seed(bravo, (ActivityKind.SIGN_IN, "secret@bravo-customer.com", 1))
    return (
        acme,
        bravo,
        dashboard_of(client_for, acme, A),
        dashboard_of(client_for, bravo, B),
    )


def test_the_page_needs_a_signed_in_merchant(client_for, db_session):
    response = client_for(None).get("/dashboard/activity")
    assert response.status_code == 302 and "/dashboard/login" in response.location
    assert client_for(None).get("/dashboard/activity.csv").status_code == 302


def test_the_page_sums_up_the_last_30_days(two_merchants):
    _, _, acme, _ = two_merchants
    page = acme.get("/dashboard/activity")
    assert page.status_code == 200
    text = page.text
    # Per kind over 30 days: the reactivation 40 days ago is not counted, but listed.
    assert '<span class="totals__value">3</span> <a' in text  # sign-ins
    assert '<span class="totals__value">5</span> <a' in text  # cancellations
    assert '<span class="totals__value">0</span> <a' in text  # reactivations (40 days ago)
    row = '<th scope="row" class="activity-label">{}</th><td class="num">{}</td>'
    assert row.format("Too expensive", 4) in text  # "Too expensive: 4"
    assert row.format("Missing a feature", 1) in text
    assert row.format("Email footer", 1) in text and row.format("Help centre", 1) in text
    assert 'No tag (typed address, bookmark, password)</th><td class="num">1</td>' in text
    assert "<svg" in text and 'aria-describedby="days-table"' in text and 'id="days-table"' in text
    assert 'viewBox="0 0 720 160"' in text and 'viewBox="0 0 360 160"' in text  # wide, phone
    assert "10 actions" in text and "Reactivated" in text  # the list has every row
    assert "€25.00" in text


def test_filters_by_kind_dates_and_email(two_merchants):
    _, _, acme, _ = two_merchants
    only_payments = acme.get("/dashboard/activity?kind=payment").text
    assert "1 action match" in only_payments and "€25.00" in only_payments
    today = utcnow().date()
    recent = acme.get(f"/dashboard/activity?from={today - timedelta(days=2)}&to={today}").text
    assert "3 actions match" in recent  # two sign-ins and the payment, 1-2 days ago
    by_email = acme.get("/dashboard/activity?email=GRACE@").text
    assert "1 action match" in by_email and "grace@example.com" in by_email
    wildcard = acme.get("/dashboard/activity?email=%25").text  # a literal %, not "anything"
    assert "0 actions match" in wildcard


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=yesterday", "is not a date for “From”"),
        ("to=2026-02-31", "is not a date for “To”"),
        ("from=2026-05-02&to=2026-05-01", "The “From” date is after the “To” date."),
        ("from=0001-01-01", "between 2000 and 2099"),
        ("kind=drop%20table", "Choose what happened from the list."),
        ("email=" + "x" * 300, "too long"),
    ],
)
def test_bad_filters_get_a_clear_message_not_an_error(two_merchants, query, message):
    _, _, acme, _ = two_merchants
    page = acme.get(f"/dashboard/activity?{query}")
    assert page.status_code == 400
    assert message in page.text and "could not be used" in page.text
    assert "ada@example.com</td>" not in page.text  # shows nothing rather than guess
    export = acme.get(f"/dashboard/activity.csv?{query}")
    assert export.status_code == 400 and message in export.text


def test_pages_and_a_huge_page_number(db_session, make_tenant, client_for):
    tenant = make_tenant("acme")
    seed(tenant, *[(ActivityKind.SIGN_IN, f"p{n:03}@example.com", n / 100) for n in range(120)])
    client = dashboard_of(client_for, tenant, A)
    first = client.get("/dashboard/activity").text
    assert "page 1 of 3" in first and "Older →" in first and "p000@example.com" in first
    last = client.get("/dashboard/activity?page=99999999999999999999")
    assert last.status_code == 200  # not a number we can use: the first page
    assert "page 1 of 3" in last.text
    past_the_end = client.get("/dashboard/activity?page=999999").text
    assert "page 3 of 3" in past_the_end and "p119@example.com" in past_the_end
    assert "page=2" in past_the_end  # "← Newer" keeps going back
    assert client.get("/dashboard/activity?page=-4").status_code == 200


def test_merchant_a_never_sees_b_s_activity(two_merchants):
    _, _, acme, bravo = two_merchants
    ada, secret = "ada@example.com", "secret@bravo-customer.com"
    for client, own, other in ((acme, ada, secret), (bravo, secret, ada)):
        page = client.get("/dashboard/activity").text
        assert own in page and other not in page
        searched = client.get(f"/dashboard/activity?email={other}").text
        assert "0 actions match" in searched and other not in searched.rsplit("</form>", 1)[1]
        exported = client.get(f"/dashboard/activity.csv?email={other}").text
        assert other not in exported and len(exported.splitlines()) == 1  # the header only
    bravo_page = bravo.get("/dashboard/activity").text
    assert "Too expensive" not in bravo_page and "1 action" in bravo_page


def test_the_csv_is_filtered_the_same_way_and_formula_safe(two_merchants):
    _, _, acme, _ = two_merchants
    export = acme.get("/dashboard/activity.csv?kind=cancellation")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert 'filename="acme-activity.csv"' in export.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0][:4] == ["When", "Time zone", "Customer email", "What"]
    assert len(rows) == 1 + 5 and {row[3] for row in rows[1:]} == {"Cancelled"}
    joan = next(row for row in rows if row[2] == "joan@example.com")
    assert joan[8] == "Missing a feature"
    assert joan[9] == '\'=HYPERLINK("http://evil")'  # text to a spreadsheet, never a formula
    assert joan[4].startswith("Missing a feature — =HYPERLINK")
    every_cell = [cell for row in rows for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in every_cell)
    payments = list(csv.reader(io.StringIO(acme.get("/dashboard/activity.csv?kind=payment").text)))
    assert payments[1][5:7] == ["25.00", "EUR"]


def test_csv_cells_that_could_run_are_quoted():
    from app.merchant.csv_export import safe_cell

    for risky in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert safe_cell(risky) == "'" + risky
    assert safe_cell("ada@example.com") == "ada@example.com"
    assert safe_cell(None) == ""


def test_old_activity_is_forgotten_in_bounded_batches(db_session, make_tenant):
    acme, bravo = make_tenant("acme"), make_tenant("bravo")
    for tenant in (acme, bravo):
        seed(
            tenant,
            *[(ActivityKind.SIGN_IN, f"old{n}@example.com", 400 + n) for n in range(3)],
            (ActivityKind.SIGN_IN, "kept@example.com", 390),  # inside 13 months
        )

    def counts():
        with unscoped():
            return dict(
                db.session.execute(
                    select(PortalActivity.tenant_id, func.count()).group_by(
                        PortalActivity.tenant_id
                    )
                ).all()
            )

    assert forget_old_activity(batch_size=2, max_batches=1) == 2  # one batch, then it stops
    assert sum(counts().values()) == 6
    assert forget_old_activity(batch_size=2) == 4  # the rest, in batches
    assert counts() == {acme.id: 1, bravo.id: 1}
    with unscoped():
        kept = db.session.scalars(select(PortalActivity.email)).all()
    assert kept == ["kept@example.com", "kept@example.com"]
    assert forget_old_activity() == 0


def test_the_retention_task_is_scheduled_daily_off_the_email_queue(app):
    from worker.celery_app import BEAT_SCHEDULE, ROUTES

    scheduled = [entry for entry in BEAT_SCHEDULE.values()
                 if entry["task"] == "app.portal.tasks.forget_old_activity"]  # fmt: skip
    assert scheduled and scheduled[0]["schedule"] == 24 * 60 * 60.0
    celery_app = app.extensions["celery"]
    route = celery_app.amqp.router.route({}, "app.portal.tasks.forget_old_activity")
    assert route["queue"].name == "default"
    assert ROUTES["app.portal.tasks.forget_old_activity"] == {"queue": "default"}


def test_times_are_shown_in_the_merchant_s_zone(db_session, make_tenant, client_for):
    tenant = make_tenant("acme", timezone="Pacific/Auckland")
    with tenant_context(tenant.id):
        db.session.add(
            PortalActivity(
                kind=ActivityKind.SIGN_IN,
                email="ada@example.com",
                occurred_at=utcnow().replace(hour=23, minute=30, second=0, microsecond=0)
                - timedelta(days=1),
            )
        )
        db.session.commit()
    page = dashboard_of(client_for, tenant, A).get("/dashboard/activity").text
    assert "Pacific/Auckland time" in page
    at = utcnow().replace(hour=23, minute=30) - timedelta(days=1)
    local = at.astimezone(ZoneInfo("Pacific/Auckland")).strftime("%H:%M")
    assert local in page and local != "23:30"


def test_the_filter_form_is_a_get_and_exports_keep_the_filter(two_merchants):
    _, _, acme, _ = two_merchants
    page = acme.get("/dashboard/activity?kind=payment&email=ada").text
    assert '<form method="get"' in page
    assert "/dashboard/activity.csv?kind=payment&amp;email=ada" in page
    assert csrf_from(page)  # the page's own forms (sign out) carry a token


def test_exports_are_rate_limited_per_merchant(two_merchants):
    _, _, acme, bravo = two_merchants
    answers = [acme.get("/dashboard/activity.csv").status_code for _ in range(11)]
    assert answers[:10] == [200] * 10 and answers[10] == 429
    assert bravo.get("/dashboard/activity.csv").status_code == 200  # another merchant's own
    assert acme.get("/dashboard/activity").status_code == 200  # the page itself is not limited


def test_a_long_export_is_read_in_chunks_without_losing_or_repeating_a_row(
    db_session, make_tenant, client_for
):
    from app.merchant.activity_report import EXPORT_CHUNK

    tenant = make_tenant("acme")
    at = utcnow() - timedelta(days=1)
    total = EXPORT_CHUNK * 2 + 50
    with tenant_context(tenant.id):
        db.session.add_all(
            PortalActivity(kind=ActivityKind.SIGN_IN, email=f"c{n:05}@example.com",
                           occurred_at=at + timedelta(seconds=n % 3))  # ties across chunks
            for n in range(total)
        )  # fmt: skip
        db.session.commit()
    export = dashboard_of(client_for, tenant, A).get("/dashboard/activity.csv")
    assert export.status_code == 200
    emails = [row[2] for row in csv.reader(io.StringIO(export.text))][1:]
    assert len(emails) == total and len(set(emails)) == total
