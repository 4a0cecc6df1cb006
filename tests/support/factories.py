"""Factories for test data: each returns a function that makes one row with sane defaults."""

from __future__ import annotations

import itertools

from app.billing.stripe_health import forget_stripe_health
from app.extensions import db
from tenants.models import Tenant

_sequence = itertools.count(1)


def make_tenant_factory():
    def make_tenant(subdomain: str | None = None, **fields) -> Tenant:
        n = next(_sequence)
        tenant = Tenant(subdomain=subdomain or f"shop{n}", name=fields.pop("name", f"Shop {n}"))
        account = fields.pop("stripe_account", None)
        for key, value in fields.items():
            setattr(tenant, key, value)
        if account:
            tenant.connect_account(account)
        db.session.add(tenant)
        db.session.commit()
        # Tenant ids start again after a truncation: the new tenant has no Stripe history.
        forget_stripe_health(tenant.id)
        return tenant

    return make_tenant
