"""Reading a cached object under its lock, the lock taken in the read's own round trip: the read
waits for the lock's holder and then sees what it committed (app/billing/locks.py)."""

import threading

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.billing.locks import object_lock_key
from app.billing.models import CachedCustomer
from app.billing.upsert import locked_cached_row
from app.clock import utcnow
from app.extensions import db
from tenants.context import tenant_context
from tests.support.cache_helpers import wait_for_lock_waiter


def test_a_locked_read_waits_for_the_holder_and_sees_the_row_it_inserted(
    app, committed, make_tenant
):
    tenant = make_tenant("acme", stripe_account="acct_locks000001")
    db.session.commit()
    tenant_id = tenant.id
    found: list = []

    def read() -> None:
        with app.app_context(), tenant_context(tenant_id):
            row = locked_cached_row(CachedCustomer, "cus_locked01")
            found.append(row.name if row is not None else None)
            db.session.rollback()

    # Another writer of the same object (a backfill page, another worker) holds its lock and
    # inserts it; our read starts meanwhile.
    with tenant_context(tenant_id), db.engine.connect() as other:
        writer = Session(bind=other)
        key = object_lock_key(tenant_id, "cus_locked01")
        writer.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        writer.add(CachedCustomer(stripe_id="cus_locked01", name="Ann", synced_at=utcnow()))
        writer.flush()
        reader = threading.Thread(target=read)
        reader.start()
        wait_for_lock_waiter(app, tenant_id, "cus_locked01")
        assert found == []  # still waiting
        writer.commit()
    reader.join(timeout=20)

    # Read after the lock was granted, not before the wait: the row is there. (Had the read
    # been one statement with the lock, its snapshot would predate the insert: None, and a
    # second insert of the same object.)
    assert found == ["Ann"]
    with tenant_context(tenant_id):
        assert db.session.scalars(select(CachedCustomer.name)).all() == ["Ann"]
