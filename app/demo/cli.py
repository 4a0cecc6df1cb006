"""`flask demo seed`: create the demo merchant if it is missing (safe to run twice)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.extensions import db
from tenants.models import Tenant

demo_cli = AppGroup("demo", help="Seed and describe the local demo.")

DEMO_SUBDOMAIN = "acme"


def seed_demo_tenant() -> Tenant:
    tenant = Tenant.by_subdomain(DEMO_SUBDOMAIN)
    if tenant is None:
        tenant = Tenant(
            subdomain=DEMO_SUBDOMAIN,
            name="Acme Rockets",
            sender_name="Acme Rockets Billing",
            support_email="billing@acme.example",
            support_url="https://acme.example/help",
            primary_color="#e11d48",
            accent_color="#f59e0b",
        )
        db.session.add(tenant)
        db.session.commit()
    return tenant


@demo_cli.command("seed")
def seed() -> None:
    """Create the demo merchant and print where to find it."""
    tenant = seed_demo_tenant()
    domain = current_app.config["PLATFORM_DOMAIN"]
    click.echo(f"demo merchant '{tenant.name}' is at http://{tenant.subdomain}.{domain}/")
