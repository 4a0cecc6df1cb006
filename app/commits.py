"""The commit rule, in one place.

Services change the session and flush; they never commit. What commits:

- the request: when a view returns, the app commits the request's work (`commit_request`, called
  by the factory's dispatch). A view that raises commits nothing: its error page rolls back.
- a Celery task, at the end of its work (`tasks.py`), and a CLI command (`cli.py`), which are
  requests of their own.
- two named exceptions, inside services, through the helpers below:
  - `record_side_effect()`: Stripe or the mail server has done something that cannot be undone
    (money moved, a card switched, an email handed over). Its record is committed at once, so
    a later failure in the same request or task cannot roll back the record of it.
  - `save_progress()`: a long task's progress (a page of a backfill, a failed attempt before
    its retry), so a crash resumes rather than repeats, and row locks are released.

tests/test_commit_rule.py fails on a commit anywhere else.
"""

from __future__ import annotations

from app.extensions import db


def commit_request() -> None:
    """The request's own commit, once its view has returned."""
    db.session.commit()


def record_side_effect(connection=None) -> None:
    """Commit now: the session holds the record of something done outside our database.

    `connection`: a connection of its own instead of the session, for a record that must not
    wait for the caller's transaction (a Stripe App's renewed tokens: Stripe has already spent
    the old refresh token, and the caller may still roll back).
    """
    (connection or db.session).commit()


def save_progress() -> None:
    """Commit now: the session holds a long task's progress, to be kept whatever comes next."""
    db.session.commit()
