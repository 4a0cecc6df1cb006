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
