"""The copy of a merchant's Stripe data (the backfill) as the dashboard shows it: a bar per
phase, a share, a time left in plain words. static/js/sync-progress.js words the polled JSON
the same way, so the page reads alike with and without JavaScript."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.billing.backfill_report import backfill_report
from app.billing.models.sync_state import BackfillStatus, SyncState
from app.clock import utcnow
from app.extensions import db
from tenants.context import tenant_context
from tenants.models import Tenant

UNDER_WAY = (BackfillStatus.QUEUED, BackfillStatus.RUNNING)
# Statuses that put the progress on the dashboard's home page (the connect page always has it).
WORTH_SHOWING_AT_HOME = (*UNDER_WAY, BackfillStatus.FAILED)


def report_for(tenant: Tenant) -> dict:
    """The backfill report of this tenant only; read, never created (a GET writes nothing)."""
    with tenant_context(tenant.id):
        state = db.session.scalars(select(SyncState)).one_or_none()
        return backfill_report(state, utcnow()).as_json()


def time_left(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    if seconds < 60:
        return "Less than a minute left"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"About {minutes} minute{'s' if minutes != 1 else ''} left"
    return f"About {round(minutes / 60)} hours left"


def summary(report: dict) -> str:
    status = report["status"]
    if status == BackfillStatus.QUEUED:
        return "Starting to copy your Stripe data…"
    if status == BackfillStatus.RUNNING:
        share = f": {report['percent']}% done" if report["percent"] is not None else ""
        return f"Copying your Stripe data{share}."
    if status == BackfillStatus.DONE:
        return (
            "Your Stripe data is copied. Your customers see it in the portal, and Stripe now "
            "tells Billfold of every change."
        )
    if status == BackfillStatus.FAILED:
        return "Copying your Stripe data stopped before it finished."
    return "Billfold has not copied your Stripe data yet."


@dataclass(frozen=True)
class PhaseBar:
    label: str
    state: str
    value: int | None  # None: a bar that only says "busy" (a list whose length Stripe keeps)
    maximum: int
    count: str


def phase_bars(report: dict) -> list[PhaseBar]:
    bars = []
    for phase in report["phases"]:
        state, done, of = phase["state"], phase["done"], phase["of"]
        label = phase["label"][:1].upper() + phase["label"][1:]
        if state == "done":
            bars.append(PhaseBar(label, state, 1, 1, f"{done} copied"))
        elif state == "waiting":
            bars.append(PhaseBar(label, state, 0, 1, "Waiting"))
        elif of:
            visited = min(phase["visited"] or 0, of)
            word = "Stopped at" if state == "failed" else ""
            count = f"{word} {visited} of {of}".strip()
            bars.append(PhaseBar(label, state, visited, of, count))
        elif state == "failed":
            bars.append(PhaseBar(label, state, 0, 1, "Stopped"))
        else:
            bars.append(PhaseBar(label, state, None, 1, f"{done} so far" if done else "Reading…"))
    return bars


def progress_context(tenant: Tenant) -> dict:
    """What the progress partial (merchant/_sync_progress.html) needs."""
    report = report_for(tenant)
    return {
        "sync": report,
        "sync_bars": phase_bars(report),
        "sync_summary": summary(report),
        "sync_time_left": time_left(report["seconds_left"]),
    }
