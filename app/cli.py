"""`flask tenants ...`: create, list, configure, sync tenants, rotate encryption keys, and give
the app its database role."""

from __future__ import annotations

import getpass

import click
import stripe
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import create_engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import NullPool

from app.billing.backfill import BackfillSuperseded, backfill
from app.billing.forget import forget_cached_account
from app.billing.progress import ProgressPrinter
from app.billing.tasks import queue_backfill
from app.extensions import db
from app.ops.tenant_status import StatusUnchanged, resume_tenant, suspend_tenant
from tenants.context import tenant_context
from tenants.crypto import CredentialError
from tenants.models import Tenant, TenantStatus
from tenants.rls import grant_app_role, role_escapes_rls
from tenants.stripe_client import StripeNotConnected, stripe_client_for
from tenants.validation import (
    validate_name,
    validate_setting,
    validate_subdomain,
    validate_support_email,
)


class FriendlyGroup(AppGroup):
    """Turn expected failures into one readable line and a non-zero exit, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except OperationalError as exc:
            db.session.rollback()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise click.ClickException(f"database unreachable: {reason}") from None
        except (ValueError, CredentialError) as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from None


tenants_cli = FriendlyGroup("tenants", help="Create and configure tenants (merchants).")


def _get_tenant(subdomain: str) -> Tenant:
    tenant = Tenant.by_subdomain(subdomain.strip().lower())
    if tenant is None:
        raise click.ClickException(f"no tenant with subdomain '{subdomain}'")
    return tenant


@tenants_cli.command("create")
@click.argument("subdomain")
@click.option("--name", required=True, help="Display name shown to customers.")
@click.option("--support-email", default=None)
def create_tenant(subdomain: str, name: str, support_email: str | None) -> None:
    """Create a tenant served at SUBDOMAIN.<PLATFORM_DOMAIN>."""
    tenant = Tenant(
        subdomain=validate_subdomain(subdomain),
        name=validate_name(name),
        support_email=validate_support_email(support_email),
    )
    db.session.add(tenant)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise click.ClickException(f"subdomain '{tenant.subdomain}' is taken") from None
    click.echo(f"created tenant {tenant.subdomain} (id {tenant.id})")


@tenants_cli.command("list")
def list_tenants() -> None:
    """List tenants with their status and Stripe connection."""
    rows = db.session.execute(db.select(Tenant).order_by(Tenant.subdomain)).scalars().all()
    if not rows:
        click.echo("no tenants")
    for tenant in rows:
        click.echo(
            f"{tenant.subdomain:<24} {tenant.status:<10} stripe={tenant.stripe_status:<14} "
            f"{tenant.name}"
        )


BOOL_SETTINGS = (
    "allow_cancel",
    "allow_reactivate",
    "allow_card_update",
    "allow_invoice_payment",
    "ask_cancel_reason",
)
# Checked by their rules in tenants/validation.py, as everywhere else they can be set.
CHECKED_SETTINGS = (
    "name",
    "sender_name",
    "support_email",
    "support_url",
    "logo_url",
    "primary_color",
    "accent_color",
    "timezone",
)


@tenants_cli.command("set")
@click.argument("subdomain")
@click.option("--name")
@click.option("--logo-url")
@click.option("--sender-name")
@click.option("--support-email")
@click.option("--support-url")
@click.option("--primary-color")
@click.option("--accent-color")
@click.option("--timezone", help="IANA zone customers' dates are shown in, e.g. Europe/Paris.")
@click.option("--status", type=click.Choice(TenantStatus.ALL))
@click.option("--reason", help="Why the tenant is suspended (with --status suspended).")
@click.option("--allow-cancel/--no-allow-cancel", default=None)
@click.option("--allow-reactivate/--no-allow-reactivate", default=None)
@click.option("--allow-card-update/--no-allow-card-update", default=None)
@click.option("--allow-invoice-payment/--no-allow-invoice-payment", default=None)
@click.option("--ask-cancel-reason/--no-ask-cancel-reason", default=None)
@click.option("--stripe-account", help="Connect account id (acct_...).")
@click.option("--stripe-api-key", help="Restricted API key of the tenant's own account.")
@click.option("--stripe-webhook-secret", help="Signing secret of the tenant's webhook endpoint.")
def set_tenant(subdomain: str, **values) -> None:
    """Change a tenant's branding, portal settings or Stripe connection."""
    tenant = _get_tenant(subdomain)
    for field in CHECKED_SETTINGS:
        if values.get(field) is not None:
            setattr(tenant, field, validate_setting(field, values[field]))
    for field in BOOL_SETTINGS:
        if values.get(field) is not None:
            setattr(tenant, field, values[field])
    if values.get("status"):
        _change_status(tenant, values["status"], values.get("reason"))
    connecting = bool(values.get("stripe_account") or values.get("stripe_api_key"))
    another_account = connecting and _another_account(tenant, values)
    if values.get("stripe_account"):
        tenant.connect_account(values["stripe_account"])
    if values.get("stripe_api_key"):
        # A new key for the same endpoint keeps the signing secret unless a new one is given.
        secret = values.get("stripe_webhook_secret") or tenant.stripe_webhook_secret
        tenant.connect_api_key(values["stripe_api_key"], secret)
    elif values.get("stripe_webhook_secret"):
        if not tenant.stripe_api_key:
            raise click.ClickException(
                "--stripe-webhook-secret is for a tenant connected by API key (--stripe-api-key)"
            )
        tenant.stripe_webhook_secret = values["stripe_webhook_secret"]
    if another_account:
        # The tenant's row first: a backfill of the old account commits the page it is writing
        # and stops at the next one (app/billing/backfill.py), so forgetting below is complete.
        db.session.flush()
        with tenant_context(tenant.id):
            forget_cached_account()
    if connecting:
        queue_backfill(tenant.id)  # sent to the worker once this commit succeeds
    db.session.commit()
    click.echo(f"updated tenant {tenant.subdomain}")
    if connecting:
        click.echo("backfill of its Stripe account queued (see `flask tenants sync` to run it now)")
    if values.get("stripe_api_key"):
        # The endpoint to register in the merchant's own Stripe account (README, "Deploy").
        click.echo(f"its Stripe webhook endpoint: {webhook_endpoint_url(tenant)}")


def _change_status(tenant: Tenant, status: str, reason: str | None) -> None:
    """As the operators' console does it, audited: suspending needs a reason, resuming queues
    the events that waited."""
    by = f"command line (user {getpass.getuser()})"
    try:
        if status == TenantStatus.SUSPENDED:
            suspend_tenant(tenant, reason or "", by=by)
        else:
            resume_tenant(tenant, by=by)
    except StatusUnchanged:
        return  # already so: nothing to change or record
    except ValueError as refused:
        raise click.ClickException(f"{refused} (--reason)") from refused


def webhook_endpoint_url(tenant: Tenant) -> str:
    config = current_app.config
    scheme = config.get("PREFERRED_URL_SCHEME") or "https"
    return f"{scheme}://{config['PLATFORM_DOMAIN']}/webhooks/stripe/{tenant.webhook_endpoint_id}"


def _another_account(tenant: Tenant, values: dict) -> bool:
    """Does this change connect a different Stripe account than the cached one?

    A new Connect account id, or a switch between Connect and an API key, is another account.
    A new API key replacing an API key is taken as a rotation of the same account's key.
    """
    if tenant.stripe_account_id is None and tenant.stripe_api_key is None:
        return False  # nothing connected before: nothing cached to forget
    if values.get("stripe_account"):
        return values["stripe_account"] != tenant.stripe_account_id
    return tenant.stripe_api_key is None  # from Connect to an API key


@tenants_cli.command("sync")
@click.argument("subdomain")
def sync_tenant(subdomain: str) -> None:
    """Copy the tenant's Stripe account into the cache now (the backfill), showing progress."""
    tenant = _get_tenant(subdomain)
    printer = ProgressPrinter()
    with tenant_context(tenant.id):
        try:
            client = stripe_client_for(tenant, bulk=True)
            click.echo(f"backfilling {tenant.subdomain} from Stripe")
            state = backfill(client, on_progress=printer, connection_at=tenant.stripe_connected_at)
        except StripeNotConnected as exc:
            raise click.ClickException(str(exc)) from None
        except BackfillSuperseded:
            printer.interrupted()
            raise click.ClickException(
                "the tenant connected another Stripe account meanwhile; its backfill is queued"
            ) from None
        except stripe.APIConnectionError:
            printer.interrupted()
            raise click.ClickException("Stripe unreachable; nothing more was copied") from None
        except stripe.StripeError as exc:
            printer.interrupted()
            reason = (exc.user_message or str(exc)).strip().splitlines()[0]
            raise click.ClickException(f"Stripe error: {reason}") from None
        printer.finish(state.backfill_progress)
    click.echo(f"synced {tenant.subdomain}")


@tenants_cli.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every stored credential under the first key of BILLFOLD_ENCRYPTION_KEYS."""
    tenants = db.session.execute(db.select(Tenant)).scalars().all()
    for tenant in tenants:
        tenant.reencrypt_credentials()
    db.session.commit()
    click.echo(f"re-encrypted credentials of {len(tenants)} tenants")


@tenants_cli.command("grant-app-role")
@click.argument("role")
def grant_app_role_command(role: str) -> None:
    """Let ROLE (the app's database role) use every table without owning any; run as the owner
    (DATABASE_OWNER_URL), after `flask db upgrade`."""
    owner_url = current_app.config.get("DATABASE_OWNER_URL")
    engine = create_engine(owner_url, poolclass=NullPool) if owner_url else db.engine
    with engine.begin() as connection:
        if connection.dialect.name != "postgresql":
            raise click.ClickException("row-level security needs PostgreSQL")
        grant_app_role(connection, role)
    click.echo(f"granted {role} read/write on every table (owning none, so policies bind it)")


@tenants_cli.command("check-isolation")
def check_isolation() -> None:
    """Say whether PostgreSQL's row-level security binds the role the app connects as."""
    with db.engine.connect() as connection:
        if connection.dialect.name != "postgresql":
            raise click.ClickException("SQLite: only the ORM layer isolates tenants")
        if role_escapes_rls(connection):
            raise click.ClickException(
                "the app connects as a superuser or BYPASSRLS role: row-level security does not "
                "bind it; connect as an ordinary role (see `flask tenants grant-app-role`)"
            )
    click.echo("row-level security binds the app's database role")
