"""Does a wrong sign-in code take longer for an address that has a live code?

Posts wrong codes for a known address (a live code waiting) and for an unknown one (never sent
a code), interleaved, through the real app on PostgreSQL, and prints both time distributions and
the chance that a known-address answer is the slower of a random pair (0.5: indistinguishable).

    .venv/bin/python bench/login_timing.py [--samples 400]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from bisect import bisect_left, bisect_right
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATABASE = "billfold_bench_login"
os.environ.update(
    BILLFOLD_ENV="testing",
    DATABASE_URL=f"postgresql://postgres@127.0.0.1:5432/{DATABASE}",
    REDIS_URL="redis://127.0.0.1:6379/13",
    PLATFORM_DOMAIN="localhost",
    SECRET_KEY="bench-secret-key-0123456789abcdef0123456789",  # noqa: S106
    RATELIMIT_ENABLED="false",
)

import psycopg2  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import text  # noqa: E402

from app.extensions import db  # noqa: E402
from app.factory import create_app  # noqa: E402
from app.portal.tokens import issue_login_token  # noqa: E402
from tenants.context import tenant_context  # noqa: E402
from tenants.models import Tenant  # noqa: E402

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def fresh_database() -> None:
    admin = psycopg2.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{DATABASE}"')
        cursor.execute(f'CREATE DATABASE "{DATABASE}"')
    admin.close()


def client_for(app, email: str):
    client = app.test_client()
    with app.app_context(), client.session_transaction(base_url="http://acme.localhost") as s:
        s["login_email"] = email
    return client


def post_wrong_code(app, client) -> float:
    with app.app_context():
        page = client.get("/login/check", base_url="http://acme.localhost")
    csrf = CSRF_RE.search(page.text).group(1)
    with app.app_context():
        start = time.perf_counter()
        response = client.post(
            "/login/code",
            data={"code": "000001", "csrf_token": csrf},
            base_url="http://acme.localhost",
        )
        elapsed = time.perf_counter() - start
    assert response.status_code == 400, response.status_code
    return elapsed


def slower_share(a: list[float], b: list[float]) -> float:
    """P(a random sample of `a` is slower than one of `b`), ties counted half."""
    b = sorted(b)
    wins = sum(bisect_left(b, x) + (bisect_right(b, x) - bisect_left(b, x)) / 2 for x in a)
    return wins / (len(a) * len(b))


def describe(name: str, samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    q = statistics.quantiles(ms, n=10)
    return f"{name:<28} median {statistics.median(ms):6.3f} ms  p10 {q[0]:6.3f}  p90 {q[-1]:6.3f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=400)
    args = parser.parse_args()
    fresh_database()
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": True})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        tenant = Tenant(subdomain="acme", name="Acme Rockets")
        db.session.add(tenant)
        db.session.commit()
        with tenant_context(tenant.id):
            issue_login_token("ada@example.com")
            db.session.commit()
    known, unknown = client_for(app, "ada@example.com"), client_for(app, "nobody@example.com")
    times = {"known": [], "unknown": []}
    for _ in range(20):  # warm up both paths
        post_wrong_code(app, known), post_wrong_code(app, unknown)
    for n in range(args.samples):
        order = ("known", "unknown") if n % 2 else ("unknown", "known")
        for which in order:
            with app.app_context():  # keep the code alive: 5 wrong tries would end it
                db.session.execute(text("UPDATE login_tokens SET code_attempts = 0"))
                db.session.commit()
            client = known if which == "known" else unknown
            times[which].append(post_wrong_code(app, client))
    print(describe("wrong code, live code", times["known"]))
    print(describe("wrong code, no code ever", times["unknown"]))
    diff = statistics.median(times["known"]) - statistics.median(times["unknown"])
    print(f"median difference {diff * 1000:+.3f} ms")
    print(f"P(known slower than unknown) = {slower_share(times['known'], times['unknown']):.3f}")


if __name__ == "__main__":
    main()
