"""Per-object locks so two workers never interleave a read-from-Stripe and write of one object."""

from __future__ import annotations

import hashlib
import threading

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.extensions import db

# SQLite (the demo) has no advisory locks, but its one process serves requests on threads and
# runs tasks inside them (a webhook's sync beside a backfill): there, writers of Stripe objects
# take turns through this lock, held like PostgreSQL's until their transaction ends.
_in_process = threading.RLock()
_HELD = "billfold_object_lock_held"
# An execution option: the advisory lock keys a statement takes first, in its own message.
LOCK_FIRST = "billfold_lock_first"


def object_lock_key(tenant_id: int, stripe_id: str) -> int:
    """The advisory lock key of one Stripe object of one tenant (64 bits of a hash)."""
    digest = hashlib.blake2b(f"{tenant_id}:{stripe_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _without_advisory_locks() -> bool:
    """SQLite (the demo) has no advisory locks: there one lock of the process, held until the
    transaction ends, stands in for every object's."""
    if db.session.get_bind().dialect.name == "postgresql":
        return False
    _hold_in_process()
    return True


def locking_first(tenant_id: int, stripe_id: str) -> dict:
    """Execution options that take the object's lock (held until the transaction ends) in the
    statement's own round trip, just before it: PostgreSQL runs the two as statements of one
    message, each with a snapshot of its own, so the statement starts only once the lock is
    granted and sees whatever the lock's previous holder committed (in one statement, its
    snapshot would predate the wait).
    Empty where there are no advisory locks: the process's lock is taken instead (SQLite)."""
    if _without_advisory_locks():
        return {}
    return {LOCK_FIRST: object_lock_key(tenant_id, stripe_id)}


def _lock_first(conn, cursor, statement, parameters, context, executemany):
    key = context.execution_options.get(LOCK_FIRST) if context is not None else None
    if key is None:
        return statement, parameters
    # An integer, put in as a literal: no quoting, and nothing for the driver's % markers.
    return f"SELECT pg_advisory_xact_lock({int(key)}); " + statement, parameters


def lock_stripe_objects(tenant_id: int, stripe_ids: list[str]) -> None:
    """Hold the objects' locks until the transaction ends, taken in one statement in a fixed
    (sorted) order."""
    if not stripe_ids or _without_advisory_locks():
        return
    keys = sorted({object_lock_key(tenant_id, stripe_id) for stripe_id in stripe_ids})
    db.session.execute(
        text("SELECT pg_advisory_xact_lock(key) FROM unnest(CAST(:keys AS bigint[])) AS key"),
        {"keys": keys},
    )


def _hold_in_process() -> None:
    session = db.session()
    if session.info.get(_HELD):
        return
    _in_process.acquire()
    session.info[_HELD] = True


def _release_in_process(session: Session, transaction) -> None:
    # The outermost transaction's end, however it ends (commit, rollback, close): a savepoint's
    # end keeps the lock, as PostgreSQL keeps a transaction's advisory locks.
    if transaction.parent is None and session.info.pop(_HELD, False):
        _in_process.release()


event.listen(Session, "after_transaction_end", _release_in_process)
event.listen(Engine, "before_cursor_execute", _lock_first, retval=True)
