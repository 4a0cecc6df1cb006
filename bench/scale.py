"""Benchmark: a thousand tenants against one, each path's cost per call, one run.

    .venv/bin/python bench/scale.py           # seeds both databases (minutes), then measures
    .venv/bin/python bench/scale.py --keep    # reuses databases seeded by an earlier run
    .venv/bin/python bench/scale.py --small   # the one-tenant database only (seconds)

Two PostgreSQL databases on 127.0.0.1:5432, seeded by PostgreSQL itself (bench/scale_seed.py):
`billfold_bench_scale` holds 1,000 tenants of the same shape (100 customers, 150 subscriptions,
1,500 invoices and 5,000 events each), `billfold_bench_scale_small` one such tenant. Each path
is measured on both in the same run by bench/scale_measure.py, connected as an ordinary role
(row-level security applies, as in production); Redis db 12 holds the rate limits.

The cost of a call is CPU time (the measuring process's plus its PostgreSQL backends'), not wall
time: the machine is shared, and CPU time is what other work on it moves least. The aim: every
figure within 10% of the small database's. Every statement the paths send is then run under
EXPLAIN (ANALYZE, BUFFERS) on the big database; a Seq Scan on a big table is a defect.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
import redis
from sqlalchemy import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file or with -m

from bench.scale_seed import BIG, SMALL, Shape, seed  # noqa: E402
from tenants.rls import grant_app_role  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SERVER = "postgresql://{role}@127.0.0.1:5432/{database}"
OWNER = "postgres"
APP_ROLE = "billfold_bench_app"  # an ordinary role: bound by row-level security
DATABASES = {"big": ("billfold_bench_scale", BIG), "small": ("billfold_bench_scale_small", SMALL)}
AIM = 0.10
PLANS_DIR = ROOT / "instance" / "bench"


def app_env(database: str, redis_db: int) -> dict[str, str]:
    """Production settings; the same keys on every run, so --keep can reuse what was encrypted."""
    return {
        **os.environ,
        "BILLFOLD_ENV": "production",
        "DATABASE_URL": SERVER.format(role=APP_ROLE, database=database),
        "DATABASE_OWNER_URL": SERVER.format(role=OWNER, database=database),
        "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "SECRET_KEY": "bench-scale-secret-key-0123456789abcdef0123456789",
        "BILLFOLD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(
            b"bench-scale-not-a-secret-key-000"
        ).decode(),
        "PLATFORM_DOMAIN": "localhost:5000",
        "PREFERRED_URL_SCHEME": "http",
        "SESSION_COOKIE_SECURE": "false",
        "STRIPE_SECRET_KEY": "sk_test_bench_scale",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_bench_scale",
        "STRIPE_API_BASE": "http://127.0.0.1:9",  # nothing listens: a Stripe call would fail
        "LOG_LEVEL": "WARNING",
    }


def admin(database: str = "postgres"):
    connection = psycopg2.connect(SERVER.format(role=OWNER, database=database))
    connection.autocommit = True
    return connection


def seeded_shape(database: str) -> dict | None:
    """The shape and seed time a database was seeded with (its comment), or None."""
    with admin() as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (database,),
        )
        row = cursor.fetchone()
    if row is None or not row[0]:
        return None
    return json.loads(row[0])


def build(database: str, shape: Shape, redis_db: int) -> datetime:
    """A fresh database: the real migrations, the app role's grants, the data; returns the
    seed time."""
    print(f"building {database}: {shape.describe()}", flush=True)
    connection = admin()
    with connection.cursor() as cursor:
        cursor.execute(
            f"DO $$ BEGIN CREATE ROLE {APP_ROLE} LOGIN; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
        cursor.execute(f'DROP DATABASE IF EXISTS "{database}"')
        cursor.execute(f'CREATE DATABASE "{database}"')
    connection.close()
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade", "heads"],
        cwd=ROOT, env=app_env(database, redis_db), check=True, capture_output=True,
    )  # fmt: skip
    print(f"  migrated in {time.monotonic() - started:.0f} s", flush=True)
    owner = create_engine(
        SERVER.format(role=OWNER, database=database).replace("postgresql:", "postgresql+psycopg2:")
    )
    with owner.begin() as connection:
        grant_app_role(connection, APP_ROLE)
    owner.dispose()
    seeded_at = datetime.now(UTC).replace(microsecond=0)
    connection = psycopg2.connect(SERVER.format(role=OWNER, database=database))
    try:
        seed(connection, shape, seeded_at)
        connection.autocommit = True
        with connection.cursor() as cursor:
            comment = shape.as_comment(seeded_at).replace("'", "''")
            cursor.execute(f"COMMENT ON DATABASE \"{database}\" IS '{comment}'")
    finally:
        connection.close()
    return seeded_at


def ready(database: str, shape: Shape, keep: bool, redis_db: int) -> datetime:
    found = seeded_shape(database)
    wanted = json.loads(shape.as_comment(datetime.now(UTC)))
    if keep and found and all(found[k] == wanted[k] for k in wanted if k != "seeded_at"):
        print(f"reusing {database} (seeded {found['seeded_at']}): {shape.describe()}")
        return datetime.fromisoformat(found["seeded_at"])
    return build(database, shape, redis_db)


def measure(database: str, seeded_at: datetime, redis_db: int, explain: bool) -> dict:
    """One measuring process on `database`; with `explain`, the plans of every statement."""
    redis.Redis(port=6379, db=redis_db).flushdb()  # rate-limit counters of earlier runs
    PLANS_DIR.mkdir(parents=True, exist_ok=True)
    plans = PLANS_DIR / f"scale-plans-{database}.txt" if explain else "-"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scale_measure.py"),
         SERVER.format(role=APP_ROLE, database=database), seeded_at.isoformat(), str(plans)],
        cwd=ROOT, env=app_env(database, redis_db), check=True, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1]) | {"plans": str(plans)}


def cheapest(rounds: list[dict]) -> dict:
    """Each figure's lowest CPU time over the rounds (what other work on the machine added to
    the rest is noise), with the last round's plans."""
    best = {}
    for result in rounds:
        for figure in result["figures"]:
            if figure["name"] not in best or figure["cpu_ms"] < best[figure["name"]]["cpu_ms"]:
                best[figure["name"]] = figure
    return rounds[-1] | {"figures": list(best.values())}


def report(big: dict | None, small: dict) -> None:
    header = f"  {'path':<42}{'big ms':>10}{'small ms':>10}{'ratio':>8}{'SQL big':>9}{'small':>7}"
    print("\nCPU ms per call (this process + its PostgreSQL backends; DB share in brackets)")
    print(header + f"   aim: within {AIM:.0%}")
    small_by_name = {f["name"]: f for f in small["figures"]}
    for figure in (big or small)["figures"]:
        mine, theirs = figure, small_by_name[figure["name"]]
        if big is None:
            print(f"  {figure['name']:<42}{'':>10}{theirs['cpu_ms']:>10.2f}")
            continue
        ratio = mine["cpu_ms"] / theirs["cpu_ms"]
        verdict = "[met]" if ratio <= 1 + AIM else "[MISSED]"
        print(
            f"  {figure['name']:<42}{mine['cpu_ms']:>10.2f}{theirs['cpu_ms']:>10.2f}"
            f"{ratio:>8.2f}{mine['statements']:>9.0f}{theirs['statements']:>7.0f}   {verdict}"
            f"   (DB {mine['db_cpu_ms']:.2f} / {theirs['db_cpu_ms']:.2f})"
        )
    explained = (big or small)["explains"]
    defects = [e for e in explained if e["seq_scans"]]
    print(f"\nEXPLAIN (ANALYZE, BUFFERS) of {len(explained)} statements: "
          f"{len(defects)} with a Seq Scan on a big table")  # fmt: skip
    for e in defects:
        print(f"  DEFECT {e['path']}: Seq Scan on {', '.join(e['seq_scans'])} "
              f"({e['ms']:.1f} ms): {e['sql'][:150]}")  # fmt: skip
    slowest = sorted(explained, key=lambda e: -e["ms"])[:5]
    print("  slowest: " + "; ".join(f"{e['path']} {e['ms']:.1f} ms" for e in slowest))
    print(f"  plans: {(big or small)['plans']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/scale.py", description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="the one-tenant database only")
    parser.add_argument("--keep", action="store_true", help="reuse databases already seeded")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--redis-db", type=int, default=12, help="Redis db (default 12)")
    args = parser.parse_args(argv)
    print(
        f"Billfold scale benchmark · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · "
        f"{os.cpu_count()} CPUs · CPU time, not wall time (the machine is shared)"
    )
    labels = ("small",) if args.small else ("small", "big")
    seeded = {label: ready(*DATABASES[label], args.keep, args.redis_db) for label in labels}
    rounds: dict[str, list[dict]] = {label: [] for label in labels}
    for number in range(1, args.rounds + 1):
        print(f"measuring, round {number} of {args.rounds}", flush=True)
        for label in labels if number % 2 else reversed(labels):
            database = DATABASES[label][0]
            last = number == args.rounds
            rounds[label].append(measure(database, seeded[label], args.redis_db, last))
    results = {label: cheapest(found) for label, found in rounds.items()}
    report(results.get("big"), results["small"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
