"""Where a tenant's backfill stands, for a person watching it: each phase, a share and a time left.

Stripe's lists say nothing of their length, so a listed phase (customers, invoices, ...) has no
total until it ends. The estimate therefore counts Stripe requests, the backfill's real cost:
one per page of 100, a phase yet to end taken as at least one page per 100 customers. Until the
customers are counted there is no estimate.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime

from app.billing.backfill import PAGE_SIZE
from app.billing.kinds import BACKFILL_PHASES
from app.billing.models.sync_state import BackfillStatus, SyncState
from app.clock import as_utc


@dataclass(frozen=True)
class PhaseReport:
    name: str
    label: str
    state: str  # waiting, running, done, failed
    done: int
    visited: int | None  # customers or subscriptions read so far, where the phase knows its length
    of: int | None


@dataclass(frozen=True)
class BackfillReport:
    status: str
    phases: list[PhaseReport]
    percent: int | None  # of the estimated Stripe requests; None until it can be estimated
    seconds_left: int | None
    started_at: str | None
    finished_at: str | None
    error: str | None

    def as_json(self) -> dict:
        return asdict(self)


def _phase_states(status: str, progress: dict) -> list[PhaseReport]:
    reports, running_seen = [], False
    for kind in BACKFILL_PHASES:
        entry = progress.get(kind.name) or {}
        if status == BackfillStatus.DONE or entry.get("finished"):
            state = "done"
        elif status in (BackfillStatus.RUNNING, BackfillStatus.FAILED) and not running_seen:
            # The first unfinished phase is the one at work (or the one that failed).
            state = "failed" if status == BackfillStatus.FAILED else "running"
            running_seen = True
        else:
            state = "waiting"
        reports.append(
            PhaseReport(
                kind.name,
                kind.label,
                state,
                int(entry.get("done") or 0),
                entry.get("visited"),
                entry.get("of"),
            )
        )
    return reports


def _requests(phases: list[PhaseReport]) -> tuple[float, float] | None:
    """(made, expected) Stripe requests, or None while the phases' lengths are unknown."""
    by_name = {phase.name: phase for phase in phases}
    customers = by_name.get("customer")
    if customers is None or customers.state != "done":
        return None
    made = expected = 0.0
    for kind in BACKFILL_PHASES:
        phase = by_name[kind.name]
        pages = max(1, math.ceil(phase.done / PAGE_SIZE))
        made += pages if phase.state != "waiting" else 0
        # A listed phase yet to end is taken as one page per customer's worth of objects.
        expected += pages if phase.state == "done" else max(pages, customers.done / PAGE_SIZE)
    return made, max(expected, made, 1.0)


def backfill_report(state: SyncState | None, now: datetime) -> BackfillReport:
    status = state.backfill_status if state else BackfillStatus.NEVER
    progress = (state.backfill_progress if state else None) or {}
    phases = _phase_states(status, progress)
    percent = seconds_left = None
    if status == BackfillStatus.DONE:
        percent, seconds_left = 100, 0
    elif status == BackfillStatus.RUNNING and state.backfill_started_at:
        counted = _requests(phases)
        if counted:
            made, expected = counted
            share = made / expected
            percent = min(99, int(share * 100))
            elapsed = (now - as_utc(state.backfill_started_at)).total_seconds()
            if share > 0.02:  # too early a rate says little
                seconds_left = max(1, round(elapsed / share - elapsed))
    return BackfillReport(
        status=status,
        phases=phases,
        percent=percent,
        seconds_left=seconds_left,
        started_at=_iso(state.backfill_started_at if state else None),
        finished_at=_iso(state.backfill_finished_at if state else None),
        error=state.backfill_error if state and status == BackfillStatus.FAILED else None,
    )


def _iso(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment else None
