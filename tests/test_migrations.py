"""The migrations and the models agree: a fresh database, every migration, then Alembic's
comparison (`flask db check`) finds nothing left to migrate."""

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[1]


def flask_db(command: str, database_url: str) -> subprocess.CompletedProcess:
    """`flask db <command>` (its words: "upgrade 0019") against `database_url`."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_OWNER_URL"}
    env.update({"BILLFOLD_ENV": "testing", "DATABASE_URL": database_url})
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", *command.split()],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_every_migration_on_a_fresh_database_leaves_nothing_for_flask_db_check(database):
    with database.sibling("billfold_migration_check") as url:
        upgraded = flask_db("upgrade", url)
        assert upgraded.returncode == 0, upgraded.stderr
        checked = flask_db("check", url)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No new upgrade operations detected" in checked.stdout + checked.stderr


def test_subscriptions_cached_before_the_collection_columns_get_them_from_their_json(database):
    import sqlalchemy as sa

    with database.sibling("billfold_migration_data") as url:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_OWNER_URL"}
        env.update({"BILLFOLD_ENV": "testing", "DATABASE_URL": url})
        before = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade", "0019"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert before.returncode == 0, before.stderr
        engine = sa.create_engine(sa.make_url(url).set(drivername="postgresql+psycopg2"))
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("SELECT set_config('billfold.bypass', 'on', true)"))
                # No tenant row: the foreign key is not what this test is about.
                conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
                tenant = 1
                for stripe_id, data in (
                    ("sub_invoiced", '{"collection_method": "send_invoice", "days_until_due": 14}'),
                    ("sub_card", '{"collection_method": "charge_automatically"}'),
                ):
                    conn.execute(
                        sa.text(
                            "INSERT INTO billing_subscriptions (tenant_id, stripe_id, data, "
                            "livemode, deleted, synced_at, customer_id, status, "
                            "cancel_at_period_end, has_discount, adds_tax) VALUES (:t, :s, "
                            "CAST(:d AS json), false, false, now(), 'cus_1', 'active', false, "
                            "false, false)"
                        ),
                        {"t": tenant, "s": stripe_id, "d": data},
                    )
            upgraded = flask_db("upgrade", url)
            assert upgraded.returncode == 0, upgraded.stderr
            with engine.begin() as conn:
                conn.execute(sa.text("SELECT set_config('billfold.bypass', 'on', true)"))
                rows = conn.execute(
                    sa.text(
                        "SELECT stripe_id, collection_method, days_until_due "
                        "FROM billing_subscriptions ORDER BY stripe_id"
                    )
                ).all()
        finally:
            engine.dispose()
    assert [tuple(row) for row in rows] == [
        ("sub_card", "charge_automatically", None),
        ("sub_invoiced", "send_invoice", 14),
    ]


TENANT_COLUMNS = {
    "subdomain": None, "name": "Shop", "status": "active", "primary_color": "#4f46e5",
    "accent_color": "#0ea5e9", "allow_cancel": True, "allow_reactivate": True,
    "allow_card_update": True, "allow_invoice_payment": True, "ask_cancel_reason": True,
    "portal_closed": False, "stripe_status": "connected", "webhook_endpoint_id": None,
    "stripe_livemode": False, "created_at": datetime(2026, 12, 1, tzinfo=UTC),
}  # fmt: skip


def test_0020_marks_the_histories_a_finished_full_backfill_copied_and_no_others(database):
    """Before 0020 a finished backfill had copied every invoice: those customers' histories
    are read. A tenant whose copy had not finished keeps them unread (its customers' first
    sign-in reads them)."""
    with database.sibling("billfold_migration_0020") as url:
        upgraded = flask_db("upgrade 0019", url)
        assert upgraded.returncode == 0, upgraded.stderr
        connection = psycopg2.connect(url)
        with connection, connection.cursor() as cursor:
            for subdomain, backfill_status in (("copied", "done"), ("copying", "running")):
                row = {**TENANT_COLUMNS, "subdomain": subdomain, "webhook_endpoint_id": subdomain}
                cursor.execute(
                    f"INSERT INTO tenants ({', '.join(row)}) VALUES "
                    f"({', '.join(['%s'] * len(row))}) RETURNING id",
                    list(row.values()),
                )
                tenant_id = cursor.fetchone()[0]
                cursor.execute(
                    "INSERT INTO billing_sync_states (tenant_id, backfill_status, "
                    "backfill_progress) VALUES (%s, %s, '{}')",
                    (tenant_id, backfill_status),
                )
                cursor.execute(
                    "INSERT INTO billing_customers (tenant_id, stripe_id, data, livemode, "
                    "deleted, synced_at, has_discount) VALUES "
                    "(%s, %s, '{}', false, false, now(), false)",
                    (tenant_id, f"cus_{subdomain}"),
                )
        connection.close()
        upgraded = flask_db("upgrade", url)
        assert upgraded.returncode == 0, upgraded.stderr
        connection = psycopg2.connect(url)
        with connection, connection.cursor() as cursor:
            cursor.execute(
                "SELECT stripe_id, invoice_history_read_at IS NOT NULL FROM billing_customers"
                " ORDER BY stripe_id"
            )
            marked = cursor.fetchall()
        connection.close()
    assert marked == [("cus_copied", True), ("cus_copying", False)]
