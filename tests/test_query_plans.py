"""The queries that run over every tenant's rows, or over all of one tenant's events, read an
index range, not a whole table: with a thousand tenants and millions of events they cost what
they cost with one (bench/scale.py measures it).

Each function runs for real; the statements it sent are planned again with sequential scans
switched off, as the planner would choose on big tables. A plan passes when every read of a big
table is an index scan with a condition, or reads a partial index (whose predicate is the
condition): a full walk of an index would cost as much as the table.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import event, text

from app.billing.event_log import store_event
from app.billing.reconcile import stuck_event_ids, tenant_event_figures
from app.extensions import db
from app.ops.tenant_health import tenant_figures
from tenants.context import tenant_context, unscoped
from tests.support.signing import make_event

# The events table only: the plans of the small cache tables' counts depend on the statistics
# other tests leave behind (bench/scale.py checks them on a big database).
BIG_TABLES = {"stripe_events"}
PARTIAL_INDEXES = {
    "ix_stripe_events_tenant_processed",
    "ix_billing_customers_tenant_kept",
    "ix_billing_subscriptions_renewing_period_end",
}


@contextmanager
def statements_sent():
    sent: list[tuple[str, dict]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("SELECT set_config("):  # row-level security's prefix
            statement = statement.split("; ", 1)[1]
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
            sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def plan_nodes(statement: str, parameters) -> list[dict]:
    """Every node of the statement's plan, sequential scans switched off."""
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    raw = (
        db.session.connection()
        .exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)
        .scalar()
    )
    plan = raw if isinstance(raw, list) else json.loads(raw)
    nodes, waiting = [], [plan[0]["Plan"]]
    while waiting:
        node = waiting.pop()
        nodes.append(node)
        waiting.extend(node.get("Plans", []))
    return nodes


def full_reads(nodes: list[dict]) -> list[str]:
    """The nodes that read a big table whole."""
    found = []
    for node in nodes:
        index = node.get("Index Name") or ""
        table = node.get("Relation Name") or next((t for t in BIG_TABLES if t in index), None)
        if table not in BIG_TABLES:
            continue
        if node["Node Type"] == "Seq Scan":
            found.append(f"Seq Scan on {table}")
        elif index and "Index Cond" not in node and index not in PARTIAL_INDEXES:
            found.append(f"{node['Node Type']} of all of {index}")
    return found


def index_reads(sent) -> list[dict]:
    """The index reads of the statements' plans; fails if any statement reads a big table
    whole."""
    problems, reads = {}, []
    for statement, parameters in sent:
        nodes = plan_nodes(statement, parameters)
        reads += [node for node in nodes if "Index Name" in node]
        if found := full_reads(nodes):
            problems[" ".join(statement.split())[:120]] = found
    assert sent
    assert problems == {}
    return reads


def indexes_read(sent) -> set[str]:
    return {node["Index Name"] for node in index_reads(sent)}


def settled_history(tenant_id: int, count: int = 3000) -> None:
    """Many processed events and fresh statistics: the planner then sees the table's real shape
    (the unsettled few among many settled), as on a live database, whatever rows and
    statistics earlier tests left behind."""
    with tenant_context(tenant_id):
        db.session.execute(
            text(
                "INSERT INTO stripe_events (tenant_id, stripe_id, type, livemode, source, status,"
                " received_at, processed_at, attempts) SELECT :tenant, 'evt_hist_' || n,"
                " 'customer.updated', false, 'webhook', 'processed',"
                " now() - n * interval '1 minute', now() - n * interval '1 minute', 1"
                " FROM generate_series(1, :count) AS n"
            ),
            {"tenant": tenant_id, "count": count},
        )
    db.session.execute(text("ANALYZE stripe_events"))


def test_the_tenants_list_reads_indexes_not_every_event(db_session, make_tenant):
    acme = make_tenant("acme", stripe_account="acct_plans_a")
    make_tenant("beta", stripe_account="acct_plans_b")
    settled_history(acme.id)
    with tenant_context(acme.id):
        store_event(acme, make_event(account="acct_plans_a"))
    with statements_sent() as sent:
        figures = {t.subdomain: t for t in tenant_figures()}
    assert (figures["acme"].pending, figures["beta"].pending) == (1, 0)
    assert figures["acme"].last_webhook_at is not None and figures["beta"].last_webhook_at is None
    with unscoped():
        # No statement reads the events table whole (index_reads fails if one does). Which
        # tenant-leading index the newest-webhook probe takes depends on this small table's
        # statistics; bench/scale.py shows it on 5 million events.
        assert index_reads(sent)


def test_a_tenants_event_figures_are_index_probes(db_session, make_tenant):
    acme = make_tenant("acme", stripe_account="acct_plans_a")
    with tenant_context(acme.id):
        store_event(acme, make_event(account="acct_plans_a"))
        with statements_sent() as sent:
            figures = tenant_event_figures()
        assert figures["pending"] == 1
        used = indexes_read(sent)
    # The newest received and latest processed: probes, not a read of all the tenant's events.
    assert {"ix_stripe_events_tenant_id_received_at", "ix_stripe_events_tenant_processed"} <= used


def test_the_stuck_event_sweep_reads_only_the_stuck(db_session, make_tenant):
    acme = make_tenant("acme", stripe_account="acct_plans_a")
    with tenant_context(acme.id):
        store_event(acme, make_event(account="acct_plans_a"))
    with unscoped():
        with statements_sent() as sent:
            assert stuck_event_ids(datetime.now(UTC)) == []  # received just now: not stuck
        # Only the events pending since before the cutoff are read, not every pending one.
        conditions = [node.get("Index Cond", "") for node in index_reads(sent)]
    assert any("status" in c and "received_at <" in c for c in conditions), conditions


def test_the_app_never_jit_compiles_its_queries(db_session):
    """Compiling costs hundreds of milliseconds; no query of the app runs long enough to repay
    it, and a pessimistic estimate over many tenants would otherwise trigger it."""
    assert db.session.execute(text("SHOW jit")).scalar() == "off"
