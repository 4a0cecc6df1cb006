"""`flask tenants sync` runs the backfill in the foreground; connecting a tenant queues one."""

from sqlalchemy import func, select

from app.billing.backfill import sync_state
from app.billing.models import CachedCustomer, CachedPaymentMethod, CachedSubscription, SyncState
from app.billing.models.sync_state import BackfillStatus
from app.billing.stripe_health import stripe_health
from app.billing.tasks import queue_backfill
from app.demo.stripe_data import create_paying_customer, create_price
from app.extensions import db
from tenants.context import tenant_context
from tenants.models import Tenant
from tests.conftest import PLATFORM_STRIPE_KEY
from tests.support.local_services.processes import free_port
from tests.support.stripe_helpers import merchant_client, new_account_id


def run(app, *args):
    return app.test_cli_runner().invoke(args=["tenants", *args])


def cached_count(tenant_id: int, model) -> int:
    db.session.expire_all()
    with tenant_context(tenant_id):
        return db.session.scalar(select(func.count(model.id)))


def backfill_status(tenant_id: int) -> str:
    db.session.expire_all()
    with tenant_context(tenant_id):
        return sync_state().backfill_status


def seed(merchant) -> None:
    price = create_price(merchant, name="Pro")
    customer, _ = create_paying_customer(merchant, "ada@example.com")
    create_paying_customer(merchant, "grace@example.com")
    merchant.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )


def test_sync_copies_the_account_and_prints_a_line_per_phase(db_session, app, connect_shop):
    shop = connect_shop("acme")
    seed(shop.merchant)
    result = run(app, "sync", "acme")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "backfilling acme from Stripe"
    assert [line.split()[0] for line in lines[1:-1]] == [
        "products", "prices", "customers", "subscriptions", "subscription", "invoices",
    ]  # fmt: skip
    assert "customers                 2  done" in result.output
    # Their cards came expanded with them: no phase, no request of their own.
    with tenant_context(shop.tenant_id):
        assert db.session.scalar(select(func.count(CachedPaymentMethod.id))) == 2
    assert lines[-1] == "synced acme"
    assert cached_count(shop.tenant_id, CachedCustomer) == 2
    assert cached_count(shop.tenant_id, CachedSubscription) == 1
    assert backfill_status(shop.tenant_id) == BackfillStatus.DONE


def test_sync_of_a_tenant_without_stripe_is_one_line_and_nonzero(db_session, app, make_tenant):
    make_tenant("lonely")
    result = run(app, "sync", "lonely")
    assert result.exit_code == 1
    assert result.output == "Error: tenant lonely is not connected to Stripe\n"


def test_sync_with_stripe_unreachable_is_one_line_and_nonzero(
    db_session, app, connect_shop, monkeypatch
):
    shop = connect_shop("acme")
    # Nothing listens on this port: every call fails to connect (after stripe-python's retries).
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", f"http://127.0.0.1:{free_port()}")
    result = run(app, "sync", "acme")
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "Error: Stripe unreachable; nothing more was copied"
    assert "Traceback" not in result.output
    with tenant_context(shop.tenant_id):
        state = sync_state()
        assert state.backfill_status == BackfillStatus.FAILED
        assert state.backfill_error.startswith("APIConnectionError")
    assert stripe_health(shop.tenant_id).failing  # the portal's pages say so


def test_connecting_a_tenant_queues_its_backfill_after_the_commit(
    db_session, app, make_tenant, stripe_emulator
):
    account = new_account_id()
    seed(merchant_client(stripe_emulator.url, PLATFORM_STRIPE_KEY, account))
    tenant_id = make_tenant("acme").id

    result = run(app, "set", "acme", "--stripe-account", account)
    assert result.exit_code == 0, result.output
    assert "backfill of its Stripe account queued" in result.output
    # Tasks run eagerly in these tests: sent after the commit, the backfill has run.
    assert backfill_status(tenant_id) == BackfillStatus.DONE
    assert cached_count(tenant_id, CachedCustomer) == 2


def test_queue_backfill_marks_it_queued_and_sends_it_only_on_commit(db_session, make_tenant):
    tenant = make_tenant("acme")
    tenant_id = tenant.id
    tenant.connect_account(new_account_id())
    queue_backfill(tenant_id)
    # Visible to dashboards; not run yet (tasks are eager here: sent now, it would be done).
    assert backfill_status(tenant_id) == BackfillStatus.QUEUED
    db.session.rollback()  # the connection did not happen: neither does its backfill
    with tenant_context(tenant_id):
        assert db.session.scalars(select(SyncState)).all() == []

    db.session.get(Tenant, tenant_id).connect_account(new_account_id())
    queue_backfill(tenant_id)
    db.session.commit()
    assert backfill_status(tenant_id) == BackfillStatus.DONE


def test_connecting_by_api_key_also_queues_a_backfill(db_session, app, make_tenant):
    tenant_id = make_tenant("keyed").id
    result = run(app, "set", "keyed", "--stripe-api-key", "sk_test_keyed",
                 "--stripe-webhook-secret", "whsec_k")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert backfill_status(tenant_id) == BackfillStatus.DONE


def test_connecting_another_account_forgets_the_old_accounts_customers(
    db_session, app, make_tenant, stripe_emulator
):
    old, new = new_account_id(), new_account_id()
    seed(merchant_client(stripe_emulator.url, PLATFORM_STRIPE_KEY, old))
    merchant_client(stripe_emulator.url, PLATFORM_STRIPE_KEY, new).v1.customers.create(
        params={"email": "only@new.example", "name": "New account's customer"}
    )
    tenant_id = make_tenant("acme").id
    assert run(app, "set", "acme", "--stripe-account", old).exit_code == 0
    assert cached_count(tenant_id, CachedCustomer) == 2
    assert run(app, "set", "acme", "--stripe-account", new).exit_code == 0
    with tenant_context(tenant_id):
        names = db.session.scalars(select(CachedCustomer.name)).all()
    assert names == ["New account's customer"]  # none of the old account's customers remain
    # The same account again (a repeated command) keeps the cache as it is.
    assert run(app, "set", "acme", "--stripe-account", new).exit_code == 0
    assert cached_count(tenant_id, CachedCustomer) == 1
