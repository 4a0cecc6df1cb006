"""The migrations and the models agree: a fresh database, every migration, then Alembic's
comparison (`flask db check`) finds nothing left to migrate."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def flask_db(command: str, database_url: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_OWNER_URL"}
    env.update({"BILLFOLD_ENV": "testing", "DATABASE_URL": database_url})
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", command],
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
