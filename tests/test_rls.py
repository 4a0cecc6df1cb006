"""PostgreSQL's row-level security: the second wall, which holds even for raw SQL.

The tests connect as an ordinary role that owns no table (tests/support/settings.py), as the app
must in production, so every policy binds them.
"""

import os
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from app.extensions import db
from tenants.context import tenant_context, unscoped
from tenants.rls import PREDICATE, role_escapes_rls
from tenants.scoping import tenant_owned_table_names
from tests.support.probe_model import ProbeNote

RAW_TEXTS = text("SELECT text FROM test_probe_notes ORDER BY text")


@pytest.fixture
def two_tenants(db_session, make_tenant):
    a, b = make_tenant("alpha"), make_tenant("bravo")
    with tenant_context(a.id):
        db.session.add_all([ProbeNote(text="a1"), ProbeNote(text="a2")])
        db.session.commit()
    with tenant_context(b.id):
        db.session.add(ProbeNote(text="b1"))
        db.session.commit()
    return a.id, b.id


def test_every_tenant_owned_table_is_under_a_forced_policy(app, database):
    with app.app_context():
        expected = set(tenant_owned_table_names(db.metadata))
    with database.owner_engine().connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, p.qual, p.with_check"
                " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " LEFT JOIN pg_policies p ON p.tablename = c.relname"
                " AND p.policyname = 'tenant_isolation'"
                " WHERE n.nspname = 'public' AND c.relkind = 'r'"
            )
        ).all()
    by_table = {r.relname: r for r in rows}
    assert expected <= set(by_table)
    for name in expected:
        row = by_table[name]
        assert row.relrowsecurity and row.relforcerowsecurity, name
        assert row.qual is not None and row.with_check is not None, name
        assert "billfold.tenant_id" in row.qual and "billfold.bypass" in row.qual, name
    assert "billfold.tenant_id" in PREDICATE


def test_the_app_connects_as_a_role_that_policies_bind(db_session):
    assert role_escapes_rls(db.session.connection()) is False
    assert db.session.scalar(text("SELECT current_user")) != "postgres"


def test_raw_sql_as_a_tenant_sees_only_that_tenants_rows(two_tenants):
    a_id, b_id = two_tenants
    with tenant_context(a_id):
        assert db.session.scalars(RAW_TEXTS).all() == ["a1", "a2"]
        assert db.session.scalar(text("SELECT count(*) FROM test_probe_notes")) == 2
    with tenant_context(b_id):
        assert db.session.scalars(RAW_TEXTS).all() == ["b1"]


def test_raw_sql_with_no_tenant_sees_nothing(two_tenants):
    assert db.session.scalars(RAW_TEXTS).all() == []


def test_raw_sql_cannot_write_a_row_into_another_tenant(two_tenants):
    a_id, b_id = two_tenants
    with tenant_context(a_id):
        nested = db.session.begin_nested()
        with pytest.raises(ProgrammingError, match="row-level security"):
            db.session.execute(
                text("INSERT INTO test_probe_notes (tenant_id, text) VALUES (:t, 'smuggled')"),
                {"t": b_id},
            )
        nested.rollback()
        # An UPDATE cannot reach the other tenant's rows either.
        changed = db.session.execute(text("UPDATE test_probe_notes SET text = 'x'"))
        assert changed.rowcount == 2
    with unscoped():
        assert db.session.scalars(RAW_TEXTS).all() == ["b1", "x", "x"]


def test_the_named_bypass_is_needed_to_see_every_tenant(two_tenants):
    """Sweeps over all tenants (stuck events, reconciliation) say `with unscoped():`."""
    assert db.session.scalar(text("SELECT count(*) FROM test_probe_notes")) == 0
    with unscoped():
        assert db.session.scalar(text("SELECT count(*) FROM test_probe_notes")) == 3


def test_the_setting_ends_with_its_transaction(app):
    """A pooled connection handed to the next request carries no tenant from the last one, and
    a context that changes inside a transaction is followed."""
    setting = text(
        "SELECT current_setting('billfold.tenant_id', true),"
        " current_setting('billfold.bypass', true)"
    )
    with app.app_context(), db.engine.connect() as conn:
        with tenant_context(7):
            assert tuple(conn.execute(setting).one()) == ("7", "")
            with unscoped():
                assert tuple(conn.execute(setting).one()) == ("", "on")
            assert tuple(conn.execute(setting).one()) == ("7", "")
        conn.commit()
        assert tuple(conn.execute(setting).one()) in {(None, None), ("", ""), ("", None)}
        with tenant_context(8):
            conn.execute(setting)
        conn.rollback()
        assert tuple(conn.execute(setting).one()) in {(None, None), ("", ""), ("", None)}


def test_check_isolation_says_whether_policies_bind_the_apps_role(app, app_env, database):
    result = app.test_cli_runner().invoke(args=["tenants", "check-isolation"])
    assert result.exit_code == 0, result.output
    assert "binds the app's database role" in result.output

    # Another process, connecting as the superuser (a second app in this one would take over
    # the Celery app the other tests use).
    as_superuser = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "tenants", "check-isolation"],
        env={**os.environ, **app_env, "DATABASE_URL": database.owner_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert as_superuser.returncode != 0
    assert "superuser or BYPASSRLS" in as_superuser.stderr


def test_grant_app_role_lets_a_new_role_use_the_tables_without_owning_them(app, database):
    with database.owner_engine().begin() as conn:
        conn.execute(
            text(
                "DO $$ BEGIN CREATE ROLE billfold_grant_probe LOGIN; "
                "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            )
        )
    app.config["DATABASE_OWNER_URL"] = database.sqlalchemy_owner_url
    try:
        result = app.test_cli_runner().invoke(
            args=["tenants", "grant-app-role", "billfold_grant_probe"]
        )
    finally:
        app.config["DATABASE_OWNER_URL"] = None
    assert result.exit_code == 0, result.output
    with database.owner_engine().connect() as conn:
        allowed = conn.execute(
            text(
                "SELECT has_table_privilege('billfold_grant_probe', 'billing_invoices', 'SELECT'),"
                " has_table_privilege('billfold_grant_probe', 'billing_invoices', 'DELETE'),"
                " has_table_privilege('billfold_grant_probe', 'billing_invoices', 'TRUNCATE'),"
                " pg_has_role('billfold_grant_probe', 'postgres', 'USAGE')"
            )
        ).one()
    assert tuple(allowed) == (True, True, False, False)


def test_a_rolled_back_savepoint_or_a_refused_statement_never_leaves_a_stale_setting(app):
    """Whatever the settings became inside a rolled-back savepoint or around a statement that
    failed, the next statement runs with the settings its own context asks for."""
    setting = text(
        "SELECT current_setting('billfold.tenant_id', true),"
        " current_setting('billfold.bypass', true)"
    )
    empty = {(None, None), ("", ""), ("", None)}
    with app.app_context(), db.engine.connect() as conn:
        with tenant_context(7):
            conn.execute(setting)
            savepoint = conn.begin_nested()
            with unscoped():
                conn.execute(setting)
            savepoint.rollback()  # PostgreSQL puts back tenant 7
        assert tuple(conn.execute(setting).one()) in empty
        with tenant_context(7):
            conn.execute(setting)
        with tenant_context(8), pytest.raises(ValueError):
            conn.execute(text("SELECT :v"), {"v": "nul\x00byte"})  # refused by the driver
        conn.rollback()
        with tenant_context(9):
            assert tuple(conn.execute(setting).one()) == ("9", "")
            savepoint = conn.begin_nested()
            with tenant_context(8):
                with pytest.raises(ValueError):
                    conn.execute(text("SELECT :v"), {"v": "nul\x00byte"})
                assert tuple(conn.execute(setting).one()) == ("8", "")
            savepoint.rollback()
            assert tuple(conn.execute(setting).one()) == ("9", "")
