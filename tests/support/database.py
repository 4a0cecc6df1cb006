"""Schema once per run (through the real migrations), a rolled-back transaction per test."""

from __future__ import annotations

from contextlib import contextmanager

from flask_migrate import upgrade
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy import text
from sqlalchemy.orm import scoped_session, sessionmaker

from app.extensions import db


def rebuild_schema(app) -> None:
    """Drop everything and run every migration, so the tests also prove the migrations."""
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade(directory="migrations")
        db.engine.dispose()


@contextmanager
def rolled_back_session(app):
    """Swap db.session for one bound to an outer transaction that is rolled back afterwards.

    Code under test may commit: its commits become savepoint releases inside that transaction.
    """
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        # A plain Session: Flask-SQLAlchemy's own get_bind() would bypass the connection.
        factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        db.session = scoped_session(factory, scopefunc=_app_ctx_id)
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


def truncate_all(app) -> None:
    """For tests whose data must be committed (worker, webhooks): empty every table after."""
    with app.app_context():
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        if tables:
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
