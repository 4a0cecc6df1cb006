"""The platform's own metrics, in Prometheus's format, for its monitoring (served by app/ops).

Every label takes a value from a short known list (an endpoint name, a task name, an outcome):
never an id, an address or anything a stranger can choose, so the number of series stays bounded.

Under gunicorn and Celery's prefork pool each process counts for itself; with
PROMETHEUS_MULTIPROC_DIR set (an empty folder the processes of one machine share) the scrape
adds them up (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import REGISTRY

HTTP_REQUESTS = Counter(
    "billfold_http_requests", "HTTP requests answered", ["endpoint", "method", "status"]
)
HTTP_LATENCY = Histogram(
    "billfold_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WEBHOOKS = Counter("billfold_webhooks", "Stripe webhook deliveries", ["type", "outcome"])
EVENTS_PROCESSED = Counter("billfold_events_processed", "Stripe events processed", ["outcome"])
EVENT_DURATION = Histogram(
    "billfold_event_processing_seconds",
    "Time to process one stored Stripe event",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TASKS = Counter("billfold_tasks", "Celery tasks run", ["task", "outcome"])
EMAILS = Counter("billfold_emails", "Emails handed to the mail server", ["kind", "outcome"])
STRIPE_REQUESTS = Counter("billfold_stripe_requests", "Requests sent to Stripe", ["outcome"])

# Label values outside these sets are counted as "other".
HTTP_METHODS = frozenset({"GET", "POST", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})


def bounded(value: str | None, allowed) -> str:
    return value if value in allowed else "other"


def stripe_outcome(status: int | None) -> str:
    """A Stripe answer's class: rate limited apart, since a merchant's limit is shared."""
    if status is None:
        return "network_error"
    if status == 429:
        return "rate_limited"
    return f"{status // 100}xx"


def exposition(extra_collectors=()) -> bytes:
    """The text a scrape reads: every process's counts where they are shared, else this one's,
    plus `extra_collectors` (figures read at scrape time). A registry of its own per scrape, so
    concurrent scrapes never meet."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)
    for collector in extra_collectors:
        registry.register(collector)
    return generate_latest(registry)
