"""The tenant behind a portal host, kept per process for half a second.

Every portal request starts by looking its host's tenant up; at hundreds of requests a second that
one row was a fifth of a short page's work. Each process keeps the row's columns (never its
encrypted Stripe credentials, never billing data, never a page) for `FRESH_FOR` seconds:

- a change made by another process (an operator's suspension, a merchant's branding, a Stripe
  disconnection found by a worker) is seen by every process within `FRESH_FOR` of its commit,
  however it was written (ORM, raw SQL, another machine), with nothing to invalidate;
- a change committed through this process's session drops the process's entries at once, so a
  merchant's own next page, and a test's next request, never read the old row.

A request gets its own instance of the row (merged without a query into its session), so the
request may read deferred columns, change and commit it as if it had queried it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from tenants.models import ENCRYPTED_ATTRIBUTES, Tenant

# Within a second on every process, as promised for suspensions, branding and disconnections.
FRESH_FOR = 0.5
# A bound on memory (a row is a few hundred bytes); past it the process starts afresh.
MOST_ENTRIES = 10_000


@dataclass(frozen=True)
class _Entry:
    row: Tenant | None  # detached, loaded columns only; None: no tenant has that subdomain
    loaded_at: float


_entries: dict[tuple[str, str], _Entry] = {}
_lock = threading.Lock()
# Raised by every forgetting: a row read before a forgetting is not kept after it (a thread that
# read the old row while another committed a change must not store it back).
_generation = 0


def cached_tenant(session: Session, database: str, subdomain: str, load) -> Tenant | None:
    """The tenant of `subdomain` in `session`: from this process's copy while it is fresh, else
    `load(subdomain)` (a query in `session`) and kept. `database` names the database the row
    came from (a process may serve several apps, as the tests do)."""
    now = time.monotonic()
    key = (database, subdomain)
    entry = _entries.get(key)
    if entry is not None and now - entry.loaded_at < FRESH_FOR:
        if entry.row is None:
            return None
        # The session's own instance, if it already has one (its changes are its own).
        own = session.identity_map.get(inspect(entry.row).key)
        return own if own is not None else session.merge(entry.row, load=False)
    generation = _generation
    tenant = load(subdomain)
    if tenant is not None and inspect(tenant).modified:
        return tenant  # changed in this session and not committed: nothing to keep
    with _lock:
        if generation == _generation:
            if len(_entries) >= MOST_ENTRIES:
                _entries.clear()
            _entries[key] = _Entry(_detached_copy(tenant), now)
    return tenant


def forget_tenants() -> None:
    """Drop every kept row: the next request of each host reads its tenant again."""
    global _generation
    with _lock:
        _generation += 1
        _entries.clear()


def _detached_copy(tenant: Tenant | None) -> Tenant | None:
    """A copy of the loaded columns, attached to no session: requests merge it into theirs.
    Never the credentials, even when the session had them loaded (decrypted)."""
    if tenant is None:
        return None
    state = inspect(tenant)
    copy = inspect(Tenant).class_manager.new_instance()
    for attribute in inspect(Tenant).column_attrs:
        if attribute.key in _CREDENTIALS:
            continue
        if attribute.key in state.dict:  # deferred and expired columns stay out
            set_committed_value(copy, attribute.key, state.dict[attribute.key])
    make_transient_to_detached(copy)
    return copy


_CREDENTIALS = frozenset(ENCRYPTED_ATTRIBUTES)


def _note_tenant_writes(session: Session, _flush_context) -> None:
    written = session.new | session.dirty | session.deleted
    if any(isinstance(obj, Tenant) for obj in written):
        session.info["tenants_written"] = True


def _forget_after_commit(session: Session) -> None:
    # A flag left by a rolled-back write costs one needless forgetting at a later commit.
    if session.info.pop("tenants_written", False):
        forget_tenants()


def _note_bulk_tenant_writes(orm_execute_state) -> None:
    if (orm_execute_state.is_update or orm_execute_state.is_delete) and any(
        mapper.class_ is Tenant for mapper in orm_execute_state.all_mappers
    ):
        orm_execute_state.session.info["tenants_written"] = True


def install_forgetting_hooks() -> None:
    """Drop this process's rows when a session of it commits a change to a tenant (idempotent)."""
    if not event.contains(Session, "after_commit", _forget_after_commit):
        event.listen(Session, "after_flush", _note_tenant_writes)
        event.listen(Session, "after_commit", _forget_after_commit)
        event.listen(Session, "do_orm_execute", _note_bulk_tenant_writes)
