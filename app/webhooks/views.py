"""Stripe webhook endpoints: the platform's Connect endpoint and one per API-key tenant."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select

from app.billing.event_log import store_event
from app.billing.events import DEAUTHORIZED
from app.billing.models.events import EventStatus
from app.billing.tasks import queue_tenant_events
from app.extensions import csrf, db
from app.metrics import WEBHOOKS, bounded
from app.stripe_connection.webhook_endpoint import EVENTS as CACHE_EVENTS
from app.webhooks.verification import RejectedDelivery, verified_event
from tenants.context import tenant_context
from tenants.models import Tenant
from tenants.resolution import require_platform_host
from worker.dispatch import call_after_commit

log = logging.getLogger(__name__)

# Event types counted by name in metrics (the ones the cache listens to); others are "other".
COUNTED_TYPES = frozenset({*CACHE_EVENTS, DEAUTHORIZED})

MAX_WEBHOOK_BYTES = 512 * 1024  # Stripe events are a few KB; anything this large is not one

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks/stripe")
bp.before_request(require_platform_host)
csrf.exempt(bp)  # authenticated by Stripe's signature, not by a session


@bp.errorhandler(RejectedDelivery)
def _rejected(exc: RejectedDelivery):
    WEBHOOKS.labels("unverified", f"rejected_{exc.status}").inc()  # the type is not to be believed
    log.warning("webhook rejected (%s) on %s: %s", exc.status, request.path, exc.reason)
    return jsonify(error=exc.reason), exc.status


def _raw_body() -> bytes:
    if (request.content_length or 0) > MAX_WEBHOOK_BYTES:
        raise RejectedDelivery(413, "payload too large")
    body = request.get_data(cache=False)
    if len(body) > MAX_WEBHOOK_BYTES:
        raise RejectedDelivery(413, "payload too large")
    return body


@bp.post("/connect")
def connect_endpoint():
    """Events of every connected account; `account` on the event selects the tenant."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        # We cannot verify, so we must not accept: a 5xx makes Stripe retry until we are fixed.
        raise RejectedDelivery(503, "Connect webhook secret is not configured")
    event = verified_event(_raw_body(), request.headers.get("Stripe-Signature"), secret)
    account = event.get("account")
    if not account:
        raise RejectedDelivery(400, "Connect event without an account")
    tenant = Tenant.ingest_facts_by_account(account)
    if tenant is None:
        # Not stored: it has no tenant to belong to. Stripe retries for days, so an event that
        # arrives just before its account's connection is saved is delivered again, not lost.
        raise RejectedDelivery(400, "unknown account")
    return _accept(tenant, event)


@bp.post("/<stripe_id:endpoint_id>")
def account_endpoint(endpoint_id: str):
    """Events of one tenant connected by API key, signed with that tenant's own secret."""
    tenant = db.session.scalars(
        select(Tenant).where(Tenant.webhook_endpoint_id == endpoint_id)
    ).one_or_none()
    if tenant is None or not tenant.stripe_webhook_secret:
        raise RejectedDelivery(404, "unknown webhook endpoint")
    event = verified_event(
        _raw_body(), request.headers.get("Stripe-Signature"), tenant.stripe_webhook_secret
    )
    if event.get("account"):
        raise RejectedDelivery(400, "Connect event sent to an account endpoint")
    return _accept(tenant, event)


def _accept(tenant, event: dict):
    """Store and queue. `tenant`: a Tenant, or its IngestFacts."""
    with tenant_context(tenant.id):
        stored = store_event(tenant, event)
    outcome = stored.status if stored.inserted else "duplicate"
    WEBHOOKS.labels(bounded(event["type"], COUNTED_TYPES), outcome).inc()
    if stored.inserted and stored.status == EventStatus.PENDING:
        # Once the request commits, a drain of the tenant's waiting events is made sure of (one
        # per tenant: app/billing/event_queue.py); a broker failure is logged and the
        # stuck-event sweep queues the event later. A duplicate delivery is a no-op.
        call_after_commit(queue_tenant_events, tenant.id)
    return jsonify(received=True, duplicate=not stored.inserted, status=stored.status), 200
