"""Celery tasks, one module per kind of work (its queue is routed by module name)."""

from worker.tasks import backfill, email, events, health  # noqa: F401
