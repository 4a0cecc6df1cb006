"""A portal host's tenant is kept per process for half a second: repeated views skip its query,
and a change is seen at once by the process that made it and within a second by every other."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from app.extensions import db
from tenants.host_cache import FRESH_FOR
from tenants.models import Tenant


def _tenant_reads(app, client, path: str = "/") -> tuple[int, int]:
    """(status, statements reading the tenants table) of one view."""
    reads = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "FROM tenants" in statement:
            reads.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        status = client.get(path).status_code
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return status, len(reads)


def test_a_second_view_within_the_freshness_window_reads_no_tenant_row(
    app, db_session, make_tenant, client_for
):
    make_tenant("keptco")
    client = client_for("keptco")
    client.get("/")
    status, reads = _tenant_reads(app, client)
    assert status == 200 and reads == 0
    time.sleep(FRESH_FOR + 0.05)
    status, reads = _tenant_reads(app, client)
    assert status == 200 and reads == 1  # expired: read again


def test_a_change_committed_by_this_process_is_seen_by_its_next_view(
    db_session, make_tenant, client_for
):
    tenant = make_tenant("changeco", name="Change Co")
    client = client_for("changeco")
    assert "Change Co" in client.get("/").text
    db.session.get(Tenant, tenant.id).name = "Renamed Co"
    db.session.commit()
    assert "Renamed Co" in client.get("/").text
    db.session.get(Tenant, tenant.id).suspend("unpaid platform invoice")
    db.session.commit()
    assert client.get("/").status_code == 503


def test_an_unknown_host_is_found_once_its_tenant_is_created(db_session, make_tenant, client_for):
    client = client_for("laterco")
    assert client.get("/").status_code == 404
    make_tenant("laterco")
    assert client.get("/").status_code == 200


def test_a_merged_copy_reads_its_deferred_credentials(app, db_session, make_tenant):
    from tenants.resolution import clear_tenant, resolve_tenant

    make_tenant("secretco", stripe_account="acct_kept_copy")
    for _ in range(2):  # the second request is served from the copy
        with app.test_request_context("/", base_url="http://secretco.localhost"):
            from flask import g

            resolve_tenant()
            assert g.tenant.stripe_account_id == "acct_kept_copy"
            clear_tenant()


def _status(url: str, host: str) -> int:
    request = urllib.request.Request(url, headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


@pytest.mark.usefixtures("committed")
def test_a_suspension_written_elsewhere_reaches_every_server_process_within_a_second(
    app, live_server, make_tenant
):
    tenant = make_tenant("fleetco")
    url, host = (
        f"http://127.0.0.1:{live_server.port}/",
        f"fleetco.{live_server.host}:{live_server.port}",
    )
    # Every gunicorn process (2 workers, 4 threads each) has a copy of the active tenant.
    assert {_status(url, host) for _ in range(40)} == {200}
    # Written past every process's session, as an operator on another machine would.
    engine = sa.create_engine(
        sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql+psycopg2")
    )
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE tenants SET status = 'suspended', suspended_reason = 'x' WHERE id = :id"
                ),
                {"id": tenant.id},
            )
    finally:
        engine.dispose()
    time.sleep(1.0)
    assert {_status(url, host) for _ in range(40)} == {503}


def test_a_row_read_while_another_thread_forgets_is_not_kept(app, db_session, make_tenant):
    from tenants import host_cache
    from tenants.resolution import _tenant_for_host

    make_tenant("raceco")
    host_cache.forget_tenants()

    def load_while_a_change_commits(subdomain):
        row = _tenant_for_host(subdomain)
        host_cache.forget_tenants()  # another thread commits a change to a tenant meanwhile
        return row

    database = app.config["SQLALCHEMY_DATABASE_URI"]
    assert host_cache.cached_tenant(db.session, database, "raceco", load_while_a_change_commits)
    assert (database, "raceco") not in host_cache._entries


def test_the_kept_copy_never_holds_credentials_even_when_loaded(app, db_session, make_tenant):
    from tenants import host_cache

    make_tenant("credco", stripe_account="acct_never_kept")
    host_cache.forget_tenants()
    database = app.config["SQLALCHEMY_DATABASE_URI"]

    def load_with_credentials(subdomain):
        row = db.session.scalars(sa.select(Tenant).where(Tenant.subdomain == subdomain)).one()
        assert row.stripe_account_id == "acct_never_kept"  # decrypted in this session
        return row

    host_cache.cached_tenant(db.session, database, "credco", load_with_credentials)
    kept = host_cache._entries[(database, "credco")].row
    assert not {"_stripe_account_id", "_stripe_api_key", "stripe_webhook_secret"} & set(
        sa.inspect(kept).dict
    )
