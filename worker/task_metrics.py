"""Count every task's outcome (ran, failed, retried) by its name, from Celery's signals."""

from __future__ import annotations

from celery import signals

from app.metrics import TASKS

_installed = False


def _name(sender) -> str:
    # Only registered tasks send these signals: their names are a short, known list.
    return getattr(sender, "name", None) or "unknown"


def _succeeded(sender=None, **_):
    TASKS.labels(_name(sender), "succeeded").inc()


def _failed(sender=None, **_):
    TASKS.labels(_name(sender), "failed").inc()


def _retried(sender=None, **_):
    TASKS.labels(_name(sender), "retried").inc()


def install_task_metrics() -> None:
    global _installed
    if _installed:
        return
    signals.task_success.connect(_succeeded, weak=False)
    signals.task_failure.connect(_failed, weak=False)
    signals.task_retry.connect(_retried, weak=False)
    _installed = True
