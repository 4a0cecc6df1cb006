"""Bind Celery to the Flask app: one app context per task, JSON only, reliable acks."""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask
from kombu import Exchange, Queue

from worker.heartbeat import Heartbeat
from worker.task_metrics import install_task_metrics

# Kinds of work kept apart so a bulk backfill never delays a customer's login email.
QUEUES = ("email", "events", "backfill", "default")
# Exact names are matched before patterns: the backfill leaves billing's events queue.
ROUTES = {
    "app.portal.tasks.forget_old_activity": {"queue": "default"},  # housekeeping, not a customer
    "app.portal.tasks.*": {"queue": "email"},
    "app.merchant.tasks.*": {"queue": "email"},
    "app.billing.tasks.backfill_tenant": {"queue": "backfill"},
    "app.billing.tasks.*": {"queue": "events"},
    "worker.health.*": {"queue": "default"},
}

BEAT_SCHEDULE = {
    "requeue-stuck-events": {
        "task": "app.billing.tasks.requeue_stuck_events",
        "schedule": 60.0,
    },
    "reconcile-tenants": {
        "task": "app.billing.tasks.reconcile_tenants",
        "schedule": 15 * 60.0,
    },
    "prune-events": {
        "task": "app.billing.tasks.prune_events",
        "schedule": 3600.0,  # hourly, in small batches: the table never builds a backlog
    },
    "forget-old-activity": {
        "task": "app.portal.tasks.forget_old_activity",
        "schedule": 24 * 60 * 60.0,
    },
}

# Tasks once named after their old module. A message queued under an old name before an upgrade
# still runs: the worker knows each old name as the renamed task (see the README's "Upgrading").
RENAMED_TASKS = {
    "worker.tasks.email.send_login_email": "app.portal.tasks.send_login_email",
    "worker.tasks.events.process_stripe_event": "app.billing.tasks.process_stripe_event",
    "worker.tasks.events.requeue_stuck_events": "app.billing.tasks.requeue_stuck_events",
    "worker.tasks.events.reconcile_tenants": "app.billing.tasks.reconcile_tenants",
    "worker.tasks.events.reconcile_tenant": "app.billing.tasks.reconcile_tenant",
    "worker.tasks.backfill.backfill_tenant": "app.billing.tasks.backfill_tenant",
    "worker.tasks.health.worker_heartbeat": "worker.health.worker_heartbeat",
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
    celery_app.steps["worker"].add(Heartbeat)
    install_task_metrics()
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def register_renamed_tasks(celery_app: Celery) -> None:
    """Answer each old task name with its renamed task. Call after the task modules are imported."""
    for old_name, new_name in RENAMED_TASKS.items():
        celery_app.tasks[old_name] = celery_app.tasks[new_name]
