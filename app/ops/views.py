"""Probes and metrics for the platform's own monitoring: `/readyz` and `/metrics`."""

from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Response, abort, current_app, jsonify, request

from app.metrics import exposition
from app.ops.probes import readiness, redis_client
from app.ops.queue_depth import QueueDepth
from tenants.resolution import require_platform_host

bp = Blueprint("ops", __name__)


@bp.get("/readyz")
def readyz():
    """200 when this process can serve (database, Redis, a live worker), else 503 naming what
    fails; each check with its timing. Reveals nothing about any tenant."""
    ready, report = readiness()
    response = jsonify(report)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def _scrape_allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    offered = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        return True
    try:
        client = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    networks = current_app.config["METRICS_ALLOWED_NETWORKS"]
    return any(client in ipaddress.ip_network(network, strict=False) for network in networks)


@bp.get("/metrics")
def metrics():
    """Prometheus's text format, on the platform host, for an allowed address or the token; to
    anyone else the page does not exist."""
    require_platform_host()
    if not _scrape_allowed():
        abort(404)
    body = exposition([QueueDepth(redis_client())])
    return Response(body, content_type="text/plain; version=0.0.4; charset=utf-8")
