"""The console's pages: the front page (platform totals, the last 24 hours, queues, workers
and the tenants list), a tenant's detail with its actions, and the audit log. Every action is
a POST with its CSRF token and writes an audit entry in the same transaction."""

from __future__ import annotations

import redis
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.billing.models.events import EventStatus, StripeEvent
from app.billing.models.sync_state import BackfillStatus, SyncState
from app.billing.tasks import (
    queue_backfill,
    replay_event,
    replay_failed_events,
)
from app.charts import bar_chart
from app.emails.models import EmailDelivery
from app.extensions import db
from app.ops.activity import last_day
from app.ops.audit import PAGE_SIZE, entries, record
from app.ops.blueprint import console
from app.ops.forms import ButtonForm, SuspendForm
from app.ops.probes import redis_client
from app.ops.queue_depth import queue_depths
from app.ops.tenant_health import (
    DESCENDING_FIRST,
    FAILING,
    RULES,
    SORT_KEYS,
    WARNING,
    listed,
    tenant_figures,
)
from app.ops.tenant_status import StatusUnchanged, resume_tenant, suspend_tenant
from tenants.context import tenant_context
from tenants.models import Tenant
from worker.heartbeat import read_heartbeats

RECENT = 50


def _workers_and_queues() -> tuple[dict | None, dict | None, str | None]:
    client = redis_client()
    if client is None:
        return None, None, "Tasks run inside the web process here (no Redis): no queues."
    try:
        return queue_depths(client), read_heartbeats(client), None
    except redis.RedisError as exc:
        return None, None, f"Redis did not answer: {type(exc).__name__}"


@console.get("/")
def home():
    figures = tenant_figures()
    sort = request.args.get("sort", "health")
    direction = request.args.get("dir")
    if sort not in SORT_KEYS:
        sort = "health"
    descending = (
        sort in DESCENDING_FIRST if direction not in ("asc", "desc") else direction == "desc"
    )
    search = request.args.get("q", "")[:100]
    unhealthy = request.args.get("unhealthy") == "1"
    rows = listed(
        figures, search=search, unhealthy_only=unhealthy, sort=sort, descending=descending
    )
    hours = last_day()
    labels = [hour.start.strftime("%H:00") for hour in hours]
    volume = bar_chart(
        "Webhooks received and events failed, per hour",
        labels,
        [hour.webhooks for hour in hours],
        overlay=[hour.failed for hour in hours],
    )
    lag = bar_chart(
        "Mean processing lag per hour, in seconds",
        labels,
        [round(hour.mean_lag_seconds or 0, 2) for hour in hours],
        unit=" s",
    )
    depths, heartbeats, redis_note = _workers_and_queues()
    totals = {
        "tenants": len(figures),
        "suspended": sum(t.suspended for t in figures),
        "failing": sum(t.health == FAILING for t in figures),
        "warning": sum(t.health == WARNING for t in figures),
        "customers": sum(t.customers for t in figures),
        "webhooks_24h": sum(hour.webhooks for hour in hours),
        "pending": sum(t.pending for t in figures),
        "failed": sum(t.failed for t in figures),
        "emails_sent_24h": sum(t.emails_sent_24h for t in figures),
        "emails_failed_24h": sum(t.emails_failed_24h for t in figures),
    }
    return render_template(
        "ops/home.html",
        rows=rows,
        totals=totals,
        rules=RULES,
        sort=sort,
        descending=descending,
        search=search,
        unhealthy=unhealthy,
        hours=hours,
        volume=volume,
        lag=lag,
        depths=depths,
        heartbeats=heartbeats,
        heartbeat_limit=current_app.config["WORKER_HEARTBEAT_MAX_AGE_SECONDS"],
        redis_note=redis_note,
    )


def _tenant(tenant_id: int) -> Tenant:
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        abort(404)
    return tenant


@console.get("/tenants/<int:tenant_id>")
def tenant(tenant_id: int):
    tenant = _tenant(tenant_id)
    figures = next(iter(tenant_figures(only=tenant.id)), None)
    with tenant_context(tenant.id):
        recent = db.session.scalars(
            select(StripeEvent).order_by(StripeEvent.received_at.desc()).limit(RECENT)
        ).all()
        failed = db.session.scalars(
            select(StripeEvent)
            .where(StripeEvent.status == EventStatus.FAILED)
            .order_by(StripeEvent.received_at)
            .limit(RECENT)
        ).all()
        emails = db.session.scalars(
            select(EmailDelivery).order_by(EmailDelivery.created_at.desc()).limit(RECENT)
        ).all()
        state = db.session.scalars(select(SyncState)).one_or_none()
    history, _ = entries(tenant_id=tenant.id)
    return render_template(
        "ops/tenant.html",
        shown=tenant,
        figures=figures,
        recent=recent,
        failed=failed,
        emails=emails,
        state=state,
        history=history[:10],
        suspend_form=SuspendForm(),
    )


def _back(tenant: Tenant):
    return redirect(url_for("console.tenant", tenant_id=tenant.id))


def _button_pressed() -> None:
    if not ButtonForm().validate_on_submit():
        abort(400)


@console.post("/tenants/<int:tenant_id>/events/<int:event_id>/replay")
def replay(tenant_id: int, event_id: int):
    _button_pressed()
    tenant = _tenant(tenant_id)
    with tenant_context(tenant.id):
        event = db.session.get(StripeEvent, event_id)
        if event is None or event.tenant_id != tenant.id:
            abort(404)  # another tenant's event, through a crafted id: not here
        before = {
            "event": event.stripe_id,
            "type": event.type,
            "status": event.status,
            "last_error": event.last_error,
        }
    if not replay_event(tenant.id, event_id):
        flash(
            f"{before['event']} is not failed ({before['status']}): nothing to replay.", "warning"
        )
        return _back(tenant)
    record(
        "replay_event",
        tenant=tenant,
        before=before,
        after={"event": before["event"], "status": EventStatus.PENDING},
    )
    flash(f"{before['event']} is queued again.", "success")
    return _back(tenant)


@console.post("/tenants/<int:tenant_id>/replay-failed")
def replay_all(tenant_id: int):
    _button_pressed()
    tenant = _tenant(tenant_id)
    queued = replay_failed_events(tenant.id)
    record("replay_failed_events", tenant=tenant, after={"events_queued": queued})
    flash(f"{queued} failed event{'s' if queued != 1 else ''} queued again.", "success")
    return _back(tenant)


@console.post("/tenants/<int:tenant_id>/resync")
def resync(tenant_id: int):
    _button_pressed()
    tenant = _tenant(tenant_id)
    with tenant_context(tenant.id):
        state = db.session.scalars(select(SyncState)).one_or_none()
        before = {"backfill_status": state.backfill_status if state else BackfillStatus.NEVER}
    queue_backfill(tenant.id)
    record(
        "resync_tenant",
        tenant=tenant,
        before=before,
        after={"backfill_status": BackfillStatus.QUEUED},
    )
    flash("A full copy of the merchant's Stripe account is queued.", "success")
    return _back(tenant)


@console.post("/tenants/<int:tenant_id>/suspend")
def suspend(tenant_id: int):
    tenant = _tenant(tenant_id)
    form = SuspendForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        flash(" ".join(form.reason.errors) or "Say why the tenant is suspended.", "error")
        return _back(tenant)
    try:
        suspend_tenant(tenant, form.reason.data)
    except StatusUnchanged as unchanged:
        flash(str(unchanged), "warning")
        return _back(tenant)
    except ValueError as refused:  # a reason of blanks only
        flash(str(refused), "error")
        return _back(tenant)
    flash(f"{tenant.subdomain} is suspended: its portal is closed, its events wait.", "success")
    return _back(tenant)


@console.post("/tenants/<int:tenant_id>/resume")
def resume(tenant_id: int):
    _button_pressed()
    tenant = _tenant(tenant_id)
    try:
        released = resume_tenant(tenant)
    except StatusUnchanged as unchanged:
        flash(str(unchanged), "warning")
        return _back(tenant)
    flash(
        f"{tenant.subdomain} is active again; {released} waiting events queued in order.", "success"
    )
    return _back(tenant)


@console.get("/audit")
def audit():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    shown, total = entries(page=page)
    return render_template(
        "ops/audit.html", entries=shown, page=page, pages=max(1, -(-total // PAGE_SIZE))
    )
