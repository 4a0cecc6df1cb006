"""The scale benchmark's measurements on one seeded database, in a process of their own.

    python bench/scale_measure.py DATABASE_URL SEEDED_AT   # prints one JSON line last

Run by bench/scale.py once per database, so the big and the small one each get a fresh
interpreter with its own app (settings are read from the environment once). Connects as the
app's ordinary role: row-level security applies, as in production.

Each path runs `repeat` times. Its cost is CPU time: this process's (time.process_time) plus
that of the PostgreSQL backends serving it (from /proc), so other work on the shared machine
barely moves it; every path that writes runs in a transaction rolled back afterwards, so the
database is the same for every run. Then each SQL statement the path sent (captured by a
before_cursor_execute listener) is run again under EXPLAIN (ANALYZE, BUFFERS), in the same
tenant scope, and any Seq Scan on a big table is reported.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import event, make_url, select
from sqlalchemy.orm import scoped_session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file or with -m

from bench.scale_seed import EMAIL, SUBDOMAIN  # noqa: E402

BIG_TABLES = (
    "stripe_events",
    "billing_invoices",
    "billing_subscriptions",
    "billing_subscription_items",
    "billing_upcoming_invoices",
    "billing_customers",
    "billing_payment_methods",
)
ACCOUNT = "acct_bench_scale"
SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")
PAGES = ("/account", "/invoices", "/account/password")


@dataclass
class Figure:
    name: str
    cpu_ms: float  # per call: this process plus its PostgreSQL backends
    db_cpu_ms: float  # the backends' share of it
    statements: float  # SQL statements per call
    captured: list = field(default_factory=list)  # (statement, parameters, scope) of one call


# -- CPU time -----------------------------------------------------------------------------------


def backend_cpu_seconds(role: str, database: str) -> float:
    """CPU time so far of every PostgreSQL backend of `role` on `database` (utime + stime)."""
    total, tick = 0, os.sysconf("SC_CLK_TCK")
    # "postgres: [cluster: ]role database host(port) state", as its process title says
    title = re.compile(rf"^postgres: (\S+: )?{role} {database} ".encode())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if not title.match((entry / "cmdline").read_bytes()):
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        total += int(fields[11]) + int(fields[12])
    return total / tick


class Recorder:
    """Counts (and keeps, while `keep` is on) the statements the app's engine sends."""

    def __init__(self, engine) -> None:
        self.count, self.keep, self.kept = 0, False, []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        from tenants.context import current_tenant_id, is_unscoped

        self.count += 1
        if self.keep:
            scope = "bypass" if is_unscoped() else current_tenant_id()
            self.kept.append((statement, parameters, scope))


def measure(
    name: str, call: Callable[[], object], repeat: int, recorder, backends: Callable[[], float]
) -> Figure:
    call()  # warm: caches, compiled statements, pooled connections
    recorder.keep, recorder.kept = True, []
    call()
    captured, recorder.keep = recorder.kept, False
    statements_before = recorder.count
    cpu, db_cpu = time.process_time(), backends()
    for _ in range(repeat):
        call()
    db_cpu = backends() - db_cpu
    cpu = time.process_time() - cpu + db_cpu
    return Figure(
        name,
        cpu_ms=cpu / repeat * 1000,
        db_cpu_ms=db_cpu / repeat * 1000,
        statements=(recorder.count - statements_before) / repeat,
        captured=captured,
    )


# -- the database, as the app sees it ------------------------------------------------------------


@contextmanager
def rolled_back() -> Iterator[None]:
    """db.session on a transaction that is rolled back at the end; the code's own commits
    become savepoints inside it."""
    from flask_sqlalchemy.session import _app_ctx_id

    from app.extensions import db

    connection = db.engine.connect()
    outer = connection.begin()
    original = db.session
    db.session = scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
        scopefunc=_app_ctx_id,
    )
    try:
        yield
    finally:
        db.session.remove()
        db.session = original
        outer.rollback()
        connection.close()


def undone(call: Callable[[], object]) -> Callable[[], object]:
    def run():
        with rolled_back():
            return call()

    return run


def explain(engine, statement: str, parameters, scope) -> tuple[str, float]:
    """EXPLAIN (ANALYZE, BUFFERS) of one captured statement in its tenant scope, rolled back:
    (plan, execution ms)."""
    from tenants.rls import BYPASS_SETTING, TENANT_SETTING

    tenant, bypass = ("", "on") if scope == "bypass" else (str(scope or ""), "")
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            cursor.execute(
                "SELECT set_config(%s, %s, true), set_config(%s, %s, true)",
                (TENANT_SETTING, tenant, BYPASS_SETTING, bypass),
            )
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        raw.rollback()
    finally:
        raw.close()
    match = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return plan, float(match.group(1)) if match else 0.0


def is_explainable(statement: str) -> bool:
    return statement.lstrip().split(None, 1)[0].upper() in {
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "WITH",
    }


# -- the paths -----------------------------------------------------------------------------------


def portal_client(app, tenant_id: int):
    """A Flask test client signed in as ada@example.com through the real login link."""
    from app.extensions import db
    from app.portal.tokens import issue_login_token
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant_id):
        raw, _code = issue_login_token(EMAIL)
        db.session.commit()
    client = app.test_client()
    base = f"http://{SUBDOMAIN}.{app.config['PLATFORM_DOMAIN']}"
    page = client.get(f"/login/verify/{raw}", base_url=base).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = client.post(f"/login/verify/{raw}", data={"csrf_token": token}, base_url=base)
    if answer.status_code != 302:
        raise RuntimeError(f"signing in answered {answer.status_code}")
    return client, base


def paths(app, seeded_at: datetime) -> dict[str, Callable[[], object]]:
    from app.billing.event_log import store_event
    from app.billing.event_retention import prune_events
    from app.billing.events import process_event
    from app.billing.models.events import EventStatus, StripeEvent
    from app.billing.reconcile import stuck_event_ids, tenant_event_figures
    from app.extensions import db
    from app.ops.tenant_health import tenant_figures
    from tenants.context import tenant_context, unscoped
    from tenants.models import Tenant

    with app.app_context(), unscoped():
        tenant = db.session.scalars(select(Tenant).where(Tenant.subdomain == SUBDOMAIN)).one()
        if tenant.stripe_account_id != ACCOUNT:
            tenant.connect_account(ACCOUNT)  # encrypted with this run's key
            db.session.commit()
        tenant_id = tenant.id
    with app.app_context(), tenant_context(tenant_id):
        pending = db.session.scalars(
            select(StripeEvent.id)
            .where(StripeEvent.status == EventStatus.PENDING)
            .order_by(StripeEvent.received_at)
            .limit(1)
        ).one()
        facts = Tenant.ingest_facts_by_account(ACCOUNT)
    client, base = portal_client(app, tenant_id)
    # Every time-dependent path looks from just after the seed, so --keep measures the same
    # moment on every run: nothing stuck, the same events past the payload window.
    now = seeded_at + timedelta(minutes=1)
    deliveries = iter(range(10**9))

    def page(path: str):
        def get():
            answer = client.get(path, base_url=base)
            if answer.status_code != 200:
                raise RuntimeError(f"{path} answered {answer.status_code}")

        return get

    def as_tenant(call):
        def run():
            with tenant_context(tenant_id):
                return call()

        return run

    def as_operator(call):
        def run():
            with unscoped():
                return call()

        return run

    def delivery() -> dict:
        number = next(deliveries)
        return {
            "id": f"evt_bench_{os.getpid()}_{number}",
            "object": "event",
            "type": "invoice.paid",
            "created": int(time.time()),
            "livemode": False,
            "account": ACCOUNT,
            "api_version": "2025-03-31.basil",
            "data": {"object": {"id": "in_1_1", "object": "invoice"}},
        }

    def processed():
        outcome = process_event(pending)
        if not outcome.startswith("coalesced"):
            raise RuntimeError(f"process_event said {outcome!r}")

    return {
        **{f"GET {path}": page(path) for path in PAGES},
        "store_event (webhook ingest)": undone(as_tenant(lambda: store_event(facts, delivery()))),
        "process_event (object fetch excluded)": undone(as_tenant(processed)),
        "stuck_event_ids (sweep)": undone(as_operator(lambda: stuck_event_ids(now))),
        "prune_events (one batch of 1,000)": undone(
            as_operator(lambda: prune_events(now, batch_size=1000, max_batches=1))
        ),
        "tenant_figures (ops tenants list)": as_operator(lambda: tenant_figures(now)),
        "tenant_figures (one tenant's ops page)": as_operator(
            lambda: tenant_figures(now, only=tenant_id)
        ),
        "tenant_event_figures (one tenant)": as_tenant(tenant_event_figures),
    }


REPEAT = {
    "GET": 100,
    "store_event": 300,
    "process_event": 200,
    "stuck_event_ids": 100,
    "prune_events": 20,
    "tenant_figures": 20,
    "tenant_event_figures": 100,
}


def explain_all(engine, figures: list[Figure], plans_file: str) -> list[dict]:
    """Every captured statement's plan, written to `plans_file`; returns a line per statement."""
    report = []
    with open(plans_file, "w") as plans:
        for figure in figures:
            for statement, parameters, scope in figure.captured:
                if statement.startswith("SELECT set_config("):  # the RLS hook's prefix
                    statement = statement.split("; ", 1)[1]
                if not is_explainable(statement):
                    continue
                plan, ms = explain(engine, statement, parameters, scope)
                scans = sorted({t for t in SEQ_SCAN.findall(plan) if t in BIG_TABLES})
                sql = " ".join(statement.split())
                report.append({"path": figure.name, "sql": sql, "ms": ms, "seq_scans": scans})
                plans.write(f"-- {figure.name}\n{statement}\n{plan}\n\n")
    return report


def main(database_url: str, seeded_at: str, plans_file: str) -> None:
    """Measure every path; EXPLAIN their statements into `plans_file` unless it is "-"."""
    from app.extensions import db
    from app.factory import create_app

    app = create_app()
    url = make_url(database_url)
    with app.app_context():
        engine = db.engine
        recorder = Recorder(engine)
        figures = []
        for name, call in paths(app, datetime.fromisoformat(seeded_at)).items():
            repeat = REPEAT[name.split(" ", 1)[0]]
            with app.app_context():
                figure = measure(
                    name, call, repeat, recorder,
                    lambda: backend_cpu_seconds(url.username, url.database),
                )  # fmt: skip
            figures.append(figure)
        explained = [] if plans_file == "-" else explain_all(engine, figures, plans_file)
    omit = {"captured"}
    print(json.dumps({
        "figures": [{k: v for k, v in asdict(f).items() if k not in omit} for f in figures],
        "explains": explained,
    }))  # fmt: skip


if __name__ == "__main__":
    main(*sys.argv[1:4])
