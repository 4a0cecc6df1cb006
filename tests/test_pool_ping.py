"""Pooled connections are pinged after they idled, not at every checkout, and a dead one is
replaced without the caller noticing (app/pool_ping.py)."""

import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from app import pool_ping
from app.extensions import db


@pytest.fixture
def pings(monkeypatch):
    """Count the pings an engine's dialect sends (and still send them)."""

    def counting(engine) -> list[int]:
        sent: list[int] = []
        ping = engine.dialect.do_ping

        def do_ping(dbapi_connection):
            sent.append(1)
            return ping(dbapi_connection)

        monkeypatch.setattr(engine.dialect, "do_ping", do_ping)
        return sent

    return counting


def backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar()


def terminate(database, pid: int) -> None:
    """End one server process, as a restart or an idle timeout would, and wait until it is gone."""
    # Autocommit: inside one transaction pg_stat_activity is a snapshot that never changes.
    with database.owner_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        gone = text("SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = :pid)")
        deadline = time.monotonic() + 5
        while not admin.execute(gone, {"pid": pid}).scalar():
            assert time.monotonic() < deadline, "the server process did not end"
            time.sleep(0.02)


def test_the_apps_connections_are_pinged_only_after_an_idle_moment(app, pings, monkeypatch):
    assert "pool_pre_ping" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    with app.app_context():
        db.engine.dispose()  # one connection, new: the checkouts below all take it
        sent = pings(db.engine)
        backend_pid(db.engine)
        backend_pid(db.engine)  # back to back, as a drain's events are
        assert sent == []

        monkeypatch.setattr(pool_ping, "PING_AFTER_IDLE_SECONDS", 0.05)
        time.sleep(0.1)
        backend_pid(db.engine)
        assert sent == [1]


def test_a_connection_that_died_while_idle_is_replaced_at_checkout(app, database, monkeypatch):
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], pool_size=1, max_overflow=0)
    pool_ping.install_idle_ping(engine)
    pool_ping.install_idle_ping(engine)  # twice is once
    try:
        first = backend_pid(engine)
        terminate(database, first)
        monkeypatch.setattr(pool_ping, "PING_AFTER_IDLE_SECONDS", 0.0)

        second = backend_pid(engine)  # no error: the dead connection failed its ping

        assert second != first
    finally:
        engine.dispose()


def test_a_connection_that_dies_in_use_fails_that_statement_and_the_session_goes_on(app, database):
    """What the ping is for, and what is left without it (a death within the idle second):
    the caller's statement fails, its rollback succeeds, and the next statement reconnects."""
    with app.app_context():
        db.engine.dispose()
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        terminate(database, pid)
        with pytest.raises(OperationalError, match="terminat|closed"):
            db.session.execute(text("SELECT 1"))
        db.session.rollback()
        assert db.session.execute(text("SELECT pg_backend_pid()")).scalar() != pid
        db.session.remove()
