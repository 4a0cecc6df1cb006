"""Count the SQL statements a block of code sends (the portal's constant-query promise)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from app.extensions import db
from tenants.host_cache import forget_tenants


@contextmanager
def count_queries(app) -> Iterator[list[str]]:
    """Yield a list that fills with every statement executed, savepoints excluded.

    The process's copies of tenants are dropped first, so a counted request always reads its
    host's tenant (the worst case, when the copy has expired): counts do not depend on timing.
    """
    forget_tenants()
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "SAVEPOINT" not in statement:
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
