"""Enqueue tasks only after the database commit that their work depends on."""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

_PENDING = "billfold_tasks_after_commit"
log = logging.getLogger(__name__)


def enqueue_after_commit(task, *args, **kwargs) -> None:
    """Send `task` once the current transaction commits; drop it if the transaction rolls back."""
    db.session().info.setdefault(_PENDING, []).append((task, args, kwargs))


def call_after_commit(func, *args) -> None:
    """Call `func(*args)` once the current transaction commits (to queue work in a way of its
    own, such as one task per tenant); dropped on rollback, logged if it fails."""
    db.session().info.setdefault(_PENDING, []).append((_Call(func), args, {}))


class _Call:
    def __init__(self, func) -> None:
        self.func = func
        self.name = getattr(func, "__qualname__", repr(func))


def _send_pending(session: Session) -> None:
    """After the commit: send each task. The data is committed whatever happens here, so a
    broker failure is logged (the sweeps and the person's retry heal it), never raised into
    the request that committed, and never stops the tasks after it."""
    pending = session.info.pop(_PENDING, [])
    for task, args, kwargs in pending:
        if isinstance(task, _Call):
            try:
                task.func(*args)
            except Exception:  # noqa: BLE001 - see the docstring
                log.exception("could not call %s%r after commit", task.name, args)
            continue
        if task.app.conf.task_always_eager:
            _run_in_process(task, args, kwargs)
            continue
        try:
            task.apply_async(args=args, kwargs=kwargs)
        except Exception:  # noqa: BLE001 - see the docstring
            log.exception("could not queue %s%r after commit", getattr(task, "name", task), args)


def _run_in_process(task, args, kwargs) -> None:
    """Eager mode (the demo, most tests): the task runs here, but its failure is the task's, not
    the failure of the request that committed: it is logged, as a worker would."""
    result = task.apply(args=args, kwargs=kwargs, throw=False)  # retries run here too
    if result.failed():
        log.error("task %s failed after its retries: %r", task.name, result.result)


def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def install_dispatch_hooks() -> None:
    """Register the hooks on every SQLAlchemy Session (idempotent)."""
    if not event.contains(Session, "after_commit", _send_pending):
        event.listen(Session, "after_commit", _send_pending)
        event.listen(Session, "after_rollback", _drop_pending)
