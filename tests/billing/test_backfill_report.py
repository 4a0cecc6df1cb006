"""What a person watching a backfill is told: each phase's state, a share done and a time left."""

from datetime import UTC, datetime, timedelta

from app.billing.backfill_report import backfill_report
from app.billing.models import SyncState
from app.billing.models.sync_state import BackfillStatus

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def state(status, progress, started_seconds_ago=60, error=None) -> SyncState:
    return SyncState(
        backfill_status=status,
        backfill_progress=progress,
        backfill_started_at=NOW - timedelta(seconds=started_seconds_ago),
        backfill_error=error,
    )


def listed(done, finished=True):
    return {"done": done, "total": done if finished else None, "finished": finished}


def phases(report):
    return {phase.name: phase.state for phase in report.phases}


def test_nothing_started_reports_every_phase_waiting_and_no_estimate():
    report = backfill_report(None, NOW)
    assert report.status == BackfillStatus.NEVER
    assert set(phases(report).values()) == {"waiting"}
    assert (report.percent, report.seconds_left) == (None, None)


def test_while_customers_are_still_listed_there_is_no_estimate():
    report = backfill_report(
        state(BackfillStatus.RUNNING, {"product": listed(2), "customer": listed(300, False)}),
        NOW,
    )
    assert phases(report)["product"] == "done"
    assert phases(report)["price"] == "running"  # the first unfinished phase is the one at work
    assert (report.percent, report.seconds_left) == (None, None)


def test_once_customers_are_counted_the_share_and_time_left_follow_the_pages():
    progress = {
        "product": listed(2),
        "price": listed(2),
        "customer": listed(1000),
        "subscription": listed(1000),
        "subscription_schedule": listed(3),
        "invoice": listed(2400, False),
    }
    report = backfill_report(state(BackfillStatus.RUNNING, progress, started_seconds_ago=120), NOW)
    assert phases(report)["invoice"] == "running"
    # Cards come expanded with customers and subscriptions; previews wait for sign-in.
    assert "payment_method" not in phases(report) and "upcoming" not in phases(report)
    # Requests: 1+1+10+10+1 pages done, 24 of invoices so far; a running phase is taken as at
    # least one page per 100 customers (10), here already passed.
    made, expected = 1 + 1 + 10 + 10 + 1 + 24, 1 + 1 + 10 + 10 + 1 + 24
    assert report.percent == min(99, int(made / expected * 100)) == 99
    progress["invoice"] = listed(300, False)
    report = backfill_report(state(BackfillStatus.RUNNING, progress, started_seconds_ago=120), NOW)
    made, expected = 1 + 1 + 10 + 10 + 1 + 3, 1 + 1 + 10 + 10 + 1 + 10
    assert report.percent == int(made / expected * 100) == 78
    assert report.seconds_left == round(120 / (made / expected) - 120)


def test_a_failed_backfill_names_the_phase_that_failed_and_says_why():
    report = backfill_report(
        state(
            BackfillStatus.FAILED,
            {"product": listed(2), "price": listed(1), "customer": listed(40, False)},
            error="APIConnectionError: Stripe could not be reached",
        ),
        NOW,
    )
    assert phases(report)["customer"] == "failed"
    assert phases(report)["invoice"] == "waiting"
    assert report.error == "APIConnectionError: Stripe could not be reached"
    assert report.percent is None


def test_a_finished_backfill_is_complete():
    report = backfill_report(state(BackfillStatus.DONE, {"customer": listed(3)}), NOW)
    assert set(phases(report).values()) == {"done"}
    assert (report.percent, report.seconds_left) == (100, 0)
    assert report.as_json()["phases"][0]["name"] == "product"
