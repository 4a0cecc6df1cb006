"""Schema once per run (through the real migrations), a rolled-back transaction per test."""

from __future__ import annotations

from contextlib import contextmanager

from flask_migrate import upgrade
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy import text
from sqlalchemy.orm import scoped_session, sessionmaker

from app.extensions import db
from tenants.rls import grant_app_role
from tests.support.services import SessionDatabase
from tests.support.settings import TEST_APP_ROLE


def rebuild_schema(app, database: SessionDatabase) -> None:
    """Drop everything and run every migration (as the owner, as in production), so the tests
    also prove the migrations; then let the app's ordinary role use the tables."""
    engine = database.owner_engine()
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
        # Roles belong to the whole server: another test database may have made it already.
        conn.execute(
            text(
                f"DO $$ BEGIN CREATE ROLE {TEST_APP_ROLE} LOGIN; "
                "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            )
        )
    with app.app_context():
        app.config["DATABASE_OWNER_URL"] = database.sqlalchemy_owner_url
        upgrade(directory="migrations")
        db.engine.dispose()
    with engine.begin() as conn:
        grant_app_role(conn, TEST_APP_ROLE)


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


def truncate_all(app, database: SessionDatabase) -> None:
    """For tests whose data must be committed (worker, webhooks): empty every table after."""
    with app.app_context():
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    if tables:
        with database.owner_engine().begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
