"""Ping a pooled database connection before use only when it idled long enough to have died.

SQLAlchemy's `pool_pre_ping` pings at every checkout. A drain of Stripe events commits each event
on its own, so it checks a connection out for each: a round trip and a statement on PostgreSQL
per event, for a connection that was in use a millisecond before. A connection dies while it
idles in the pool (the server restarted or failed over, an idle timeout on the way), so this
pings the ones that idled PING_AFTER_IDLE_SECONDS or more, and a new one never. A dead one is
replaced as `pool_pre_ping` replaces it: the pool is told it is disconnected and checks out
another.
"""

from __future__ import annotations

import time
import weakref

from sqlalchemy import event, exc
from sqlalchemy.engine import Dialect, Engine

PING_AFTER_IDLE_SECONDS = 1.0
_CHECKED_IN_AT = "billfold_checked_in_at"

_installed: weakref.WeakSet = weakref.WeakSet()


def install_idle_ping(engine: Engine) -> None:
    """Ping `engine`'s connections at checkout after an idle second (idempotent; the engine
    must not also have `pool_pre_ping`). The pool's listeners outlive `engine.dispose()`."""
    if engine in _installed:
        return
    ping = _IdlePing(engine.dialect)
    event.listen(engine, "checkin", ping.checked_in)
    event.listen(engine, "checkout", ping.checked_out)
    _installed.add(engine)


class _IdlePing:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect

    def checked_in(self, dbapi_connection, record) -> None:
        if record is not None:
            record.info[_CHECKED_IN_AT] = time.monotonic()

    def checked_out(self, dbapi_connection, record, proxy) -> None:
        idle_since = record.info.get(_CHECKED_IN_AT)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return  # new, or in use a moment ago
        try:
            alive = self.dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001 - whatever broke it, it is not usable
            raise exc.DisconnectionError(f"a pooled connection failed its ping: {error}") from error
        if not alive:
            raise exc.DisconnectionError("a pooled connection failed its ping")
