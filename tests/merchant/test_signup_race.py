"""Two sign-ups for one subdomain at the same moment: one wins, the other gets the "taken"
message, and nothing of the loser is left half-written.

Both requests are made to pass the "is it free?" check together: a third transaction holds an
uncommitted row with that subdomain, so each request's insert waits on the unique index. When it
rolls back, one insert goes through and commits; the other then hits the unique constraint.
"""

import threading
import time

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.extensions import db
from app.merchant.models import MerchantUser
from tenants.models import Tenant
from tests.merchant.conftest import signup_fields
from tests.support.portal_client import csrf_from


def _waiting_on_locks(conn) -> int:
    return conn.execute(
        text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
    ).scalar()


def test_concurrent_sign_ups_for_one_subdomain_one_wins(
    app, database, committed, client_for, smtp_sink
):
    clients = [client_for(None), client_for(None)]
    tokens = [csrf_from(client.get("/dashboard/signup").text) for client in clients]
    results: list = [None, None]

    def attempt(n: int) -> None:
        fields = signup_fields(email=f"racer{n}@example.com", subdomain="acme")
        results[n] = clients[n].post("/dashboard/signup", data={"csrf_token": tokens[n], **fields})

    engine = database.owner_engine()
    # The watcher in autocommit: inside a transaction, pg_stat_activity is one frozen snapshot.
    with (
        engine.connect() as blocker_conn,
        engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher,
    ):
        blocker = Session(bind=blocker_conn)
        blocker.add(Tenant(subdomain="acme", name="Placeholder"))
        blocker.flush()  # inserted, not committed: the index entry is locked
        threads = [threading.Thread(target=attempt, args=(n,)) for n in (0, 1)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while _waiting_on_locks(watcher) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _waiting_on_locks(watcher) == 2, "both sign-ups should wait on the index"
        blocker.rollback()
        blocker.close()
        for thread in threads:
            thread.join(timeout=30)
    engine.dispose()

    statuses = sorted(response.status_code for response in results)
    assert statuses == [302, 400]
    loser = next(response for response in results if response.status_code == 400)
    assert "acme is taken by another business" in loser.text
    assert 'aria-invalid="true"' in loser.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Tenant)) == 1
        users = db.session.scalars(select(MerchantUser)).all()
        assert len(users) == 1  # the loser's owner row went with its tenant row
        assert users[0].tenant_id == Tenant.by_subdomain("acme").id
