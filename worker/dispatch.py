"""Enqueue tasks only after the database commit that their work depends on."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

_PENDING = "billfold_tasks_after_commit"


def enqueue_after_commit(task, *args, **kwargs) -> None:
    """Send `task` once the current transaction commits; drop it if the transaction rolls back."""
    db.session().info.setdefault(_PENDING, []).append((task, args, kwargs))


def _send_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, [])
    for task, args, kwargs in pending:
        task.apply_async(args=args, kwargs=kwargs)


def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


_installed = False


def install_dispatch_hooks() -> None:
    global _installed
    if _installed:
        return
    event.listen(Session, "after_commit", _send_pending)
    event.listen(Session, "after_rollback", _drop_pending)
    _installed = True
