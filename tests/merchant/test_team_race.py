"""Two owners making each other members at the same moment: the tenant keeps one owner.

A third transaction holds the owner rows locked, so both requests reach the lock together and
wait on it; when it lets go, one demotion goes through and the other finds its target is now the
only owner and refuses.
"""

import threading
import time

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.extensions import db
from app.merchant.models import MerchantRole, MerchantUser
from tenants.models import Tenant
from tests.merchant.conftest import (
    PASSWORD,
    log_in,
    merchant_user_for,
    signed_up_and_verified,
)
from tests.support.portal_client import csrf_from


def _waiting_on_locks(conn) -> int:
    return conn.execute(
        text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
    ).scalar()


def test_two_owners_demoting_each_other_leave_one_owner(
    app, database, committed, client_for, smtp_sink
):
    ada_client, bo_client = client_for(None), client_for(None)
    signed_up_and_verified(ada_client, smtp_sink)
    ada = db.session.scalars(select(MerchantUser)).one()
    bo = merchant_user_for(Tenant.by_subdomain("acme"), "bo@example.com")
    ada_id, bo_id, tenant_id = ada.id, bo.id, ada.tenant_id
    assert log_in(bo_client, "bo@example.com", PASSWORD).status_code == 302
    attempts = [(ada_client, bo_id), (bo_client, ada_id)]
    tokens = [csrf_from(client.get("/dashboard/team").text) for client, _ in attempts]
    results: list = [None, None]

    def demote(n: int) -> None:
        client, target = attempts[n]
        results[n] = client.post(
            f"/dashboard/team/members/{target}/role",
            data={"csrf_token": tokens[n], "role": "member"},
        )

    engine = database.owner_engine()
    with (
        engine.connect() as blocker_conn,
        engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher,
    ):
        blocker = Session(bind=blocker_conn)
        blocker.execute(
            select(MerchantUser.id).where(MerchantUser.tenant_id == tenant_id).with_for_update()
        ).all()
        threads = [threading.Thread(target=demote, args=(n,)) for n in (0, 1)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while _waiting_on_locks(watcher) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _waiting_on_locks(watcher) == 2, "both demotions should wait on the owner rows"
        blocker.rollback()
        blocker.close()
        for thread in threads:
            thread.join(timeout=30)
    engine.dispose()

    assert [response.status_code for response in results] == [302, 302]
    with app.app_context():
        roles = db.session.scalars(
            select(MerchantUser.role).where(MerchantUser.tenant_id == tenant_id)
        ).all()
    assert sorted(roles) == [MerchantRole.MEMBER, MerchantRole.OWNER]
    pages = [client.get("/dashboard/team") for client, _ in attempts]
    texts = " ".join(page.text for page in pages)
    assert "is the only owner, so you cannot make them a member" in texts
