"""Bind Celery to the Flask app: one app context per task, JSON only, reliable acks."""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask
from kombu import Exchange, Queue

# Kinds of work kept apart so a bulk backfill never delays a customer's login email.
QUEUES = ("email", "events", "backfill", "default")
ROUTES = {
    "worker.tasks.email.*": {"queue": "email"},
    "app.merchant.tasks.*": {"queue": "email"},
    "worker.tasks.events.*": {"queue": "events"},
    "worker.tasks.health.*": {"queue": "default"},
    "worker.tasks.backfill.*": {"queue": "backfill"},
}

BEAT_SCHEDULE = {
    "requeue-stuck-events": {
        "task": "worker.tasks.events.requeue_stuck_events",
        "schedule": 60.0,
    },
    "reconcile-tenants": {
        "task": "worker.tasks.events.reconcile_tenants",
        "schedule": 15 * 60.0,
    },
}


def celery_settings(app: Flask) -> dict:
    redis_url = app.config.get("REDIS_URL") or "memory://"
    eager = app.config["CELERY_EAGER"]
    return {
        "broker_url": redis_url,
        "result_backend": app.config.get("REDIS_URL"),
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_always_eager": eager,
        # In eager mode a failing task fails like in a worker (retried, then logged), and never
        # breaks the request that queued it; `.get()` on its result still raises.
        "task_eager_propagates": False,
        "task_default_queue": "default",
        "task_queues": [Queue(name, Exchange(name), routing_key=name) for name in QUEUES],
        "task_routes": ROUTES,
        "broker_connection_retry_on_startup": True,
        # A task that outlives this is redelivered; keep it above the slowest backfill page.
        "broker_transport_options": {"visibility_timeout": 3600},
        "worker_hijack_root_logger": False,
        "beat_schedule": BEAT_SCHEDULE,
        "timezone": "UTC",
    }


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(celery_settings(app))
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
