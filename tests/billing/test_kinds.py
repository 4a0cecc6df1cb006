"""The cache's kinds of Stripe data are listed once (app.billing.kinds), and writing, fetching,
copying and forgetting each cover exactly that list: a kind added there is handled everywhere."""

from collections import Counter
from datetime import UTC, datetime

import pytest
import stripe
from sqlalchemy import func, select

from app.billing.backfill import backfill
from app.billing.fetch import object_path
from app.billing.forget import forget_cached_account
from app.billing.kinds import BACKFILL_PHASES, BY_OBJECT, KINDS
from app.billing.models.base import StripeCached
from app.billing.progress import LABELS
from app.billing.upcoming import store_preview
from app.billing.upsert import apply_stripe_object, cached_row
from app.extensions import db
from tenants.context import tenant_context
from tenants.models import Tenant
from tenants.stripe_client import stripe_client_for

NOW = datetime(2026, 1, 15, tzinfo=UTC)
PERIOD_END = 1_770_000_000

SUBSCRIPTION = {
    "object": "subscription",
    "id": "sub_kinds",
    "customer": "cus_kinds",
    "status": "active",
    "currency": "usd",
    "items": {
        "object": "list",
        "has_more": False,
        "data": [
            {
                "object": "subscription_item",
                "id": "si_kinds",
                "price": {"id": "price_kinds", "product": "prod_kinds"},
                "quantity": 1,
                "current_period_end": PERIOD_END,
            }
        ],
    },
}

# One object of every type Stripe serves by id that the cache keeps, as Stripe sends it.
STRIPE_OBJECTS = [
    {"object": "product", "id": "prod_kinds", "name": "Pro", "active": True},
    {"object": "price", "id": "price_kinds", "product": "prod_kinds", "unit_amount": 2500,
     "currency": "usd", "recurring": {"interval": "month", "interval_count": 1}},
    {"object": "plan", "id": "plan_kinds", "product": "prod_kinds", "amount": 900,
     "currency": "usd", "interval": "month", "interval_count": 1},
    {"object": "customer", "id": "cus_kinds", "email": "ada@example.com", "name": "Ada"},
    SUBSCRIPTION,
    {"object": "subscription_schedule", "id": "sub_sched_kinds", "customer": "cus_kinds",
     "subscription": "sub_kinds", "status": "active", "end_behavior": "release",
     "phases": [{"start_date": 1, "end_date": PERIOD_END,
                 "items": [{"price": "price_kinds", "quantity": 1}]}]},
    {"object": "invoice", "id": "in_kinds", "customer": "cus_kinds", "status": "paid",
     "currency": "usd", "total": 2500, "amount_paid": 2500},
    {"object": "payment_method", "id": "pm_kinds", "customer": "cus_kinds", "type": "card",
     "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}},
]  # fmt: skip
PREVIEW = {"object": "invoice", "amount_due": 2500, "currency": "usd", "period_end": PERIOD_END}


def cached_models() -> list[type]:
    """Every model of cached Stripe data: the mapped subclasses of the mixin, however deep."""
    found, parents = [], [StripeCached]
    while parents:
        for model in parents.pop().__subclasses__():
            parents.append(model)
            if hasattr(model, "__table__"):
                found.append(model)
    return found


def fill_cache(tenant_id: int) -> None:
    with tenant_context(tenant_id):
        for obj in STRIPE_OBJECTS:
            apply_stripe_object(obj, NOW)
        store_preview(SUBSCRIPTION, PREVIEW, NOW)
        db.session.flush()


def row_counts(tenant_id: int) -> dict[str, int]:
    with tenant_context(tenant_id):
        return {
            model.__name__: db.session.scalar(select(func.count(model.id)))
            for model in cached_models()
        }


def test_every_cached_model_is_exactly_one_kind():
    assert len(cached_models()) >= 8  # the walk finds the models (it cannot pass on none)
    assert Counter(kind.model for kind in KINDS) == Counter(cached_models())
    assert len({kind.name for kind in KINDS}) == len(KINDS)


def test_what_events_fetch_by_id_lives_where_the_sdk_serves_it():
    sdk = stripe.StripeClient("sk_test_kinds").v1
    for name, kind in BY_OBJECT.items():
        service = getattr(sdk, kind.collection)  # a collection the API has, by the SDK's name
        assert callable(service.retrieve) and callable(service.list), name
        assert object_path(name, "x_1") == f"/v1/{kind.collection}/x_1"
    assert BY_OBJECT["plan"] is BY_OBJECT["price"]  # a plan is read and cached as a price


def test_every_stripe_object_kind_is_written_to_its_own_model(db_session, make_tenant):
    assert {obj["object"] for obj in STRIPE_OBJECTS} == set(BY_OBJECT)
    tenant_id = make_tenant("acme").id
    fill_cache(tenant_id)
    with tenant_context(tenant_id):
        for obj in STRIPE_OBJECTS:
            row = cached_row(BY_OBJECT[obj["object"]].model, obj["id"])
            assert row is not None and row.data == obj, obj["object"]
        # What Stripe does not serve by id reaches the cache only with its parent.
        for name in {kind.name for kind in KINDS} - set(BY_OBJECT):
            with pytest.raises(ValueError, match="no cache"):
                apply_stripe_object({"object": name, "id": "x_1"}, NOW)


def test_forgetting_an_account_empties_every_cached_model(db_session, make_tenant):
    forgotten, kept = make_tenant("acme").id, make_tenant("globex").id
    fill_cache(forgotten)
    fill_cache(kept)
    kept_before = row_counts(kept)
    assert all(row_counts(forgotten).values())  # a row of every cached model to forget

    with tenant_context(forgotten):
        forget_cached_account()

    assert set(row_counts(forgotten).values()) == {0}
    assert row_counts(kept) == kept_before  # another tenant's cache is not touched


def test_a_backfill_runs_one_phase_per_kind_it_copies_and_labels_each(db_session, connect_shop):
    shop = connect_shop("acme")
    with tenant_context(shop.tenant_id):
        tenant = db.session.get(Tenant, shop.tenant_id)
        state = backfill(stripe_client_for(tenant))

    names = [kind.name for kind in BACKFILL_PHASES]
    assert set(state.backfill_progress) == set(names)
    assert all(phase["finished"] for phase in state.backfill_progress.values())
    assert list(LABELS) == names and all(LABELS.values())
