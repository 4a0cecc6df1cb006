"""Count every HTTP request and time it, by the route that answered (never by its URL)."""

from __future__ import annotations

import time

from flask import Flask, g, request

from app.metrics import HTTP_LATENCY, HTTP_METHODS, HTTP_REQUESTS, bounded


def _started() -> None:
    g.request_started = time.perf_counter()


def _answered(response):
    started = g.pop("request_started", None)
    endpoint = request.url_rule.endpoint if request.url_rule else "unmatched"
    HTTP_REQUESTS.labels(
        endpoint, bounded(request.method, HTTP_METHODS), str(response.status_code)
    ).inc()
    if started is not None:
        HTTP_LATENCY.labels(endpoint).observe(time.perf_counter() - started)
    return response


def init_request_metrics(app: Flask) -> None:
    app.before_request(_started)
    app.after_request(_answered)
