"""Connect an account by a restricted key the merchant pastes.

The key is checked before anything is saved: its form (a restricted key, not a publishable or
full secret key), its mode against the platform's, that no other tenant uses it or its account,
that Stripe knows it (reading its account), and that it has every permission Billfold needs
(one probe each; a missing one is named in the Dashboard's words). Then the webhook endpoint is
created through the key when it may, else the merchant gets the address and events to add, and
their endpoint's signing secret is taken when they paste it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import stripe
from sqlalchemy import select

from app.extensions import db
from app.stripe_connection.errors import UNEXPECTED, UNREACHABLE, ConnectionRefused
from app.stripe_connection.ownership import forget_previous_account, refuse_if_taken
from app.stripe_connection.webhook_endpoint import (
    EVENTS,
    WebhookSetup,
    create_endpoint,
    endpoint_url,
)
from tenants.app_tokens import forget_app_tokens
from tenants.crypto import keyring
from tenants.models import Tenant, is_live_key, platform_livemode
from tenants.stripe_client import client_for_key
from tenants.timezones import timezone_of_account

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Permission:
    """One permission Billfold needs, as the Dashboard's key editor names it, and a probe: a
    call that changes nothing and that Stripe refuses (403) only without the permission."""

    resource: str  # as the Dashboard lists it
    level: str  # "Read" or "Write"
    method: str
    path: str


PROBE = "billfoldprobe"  # an id no object has: a write probe answers 404, never changes anything
NEEDED = (
    Permission("Customers", "Write", "post", f"/v1/customers/cus_{PROBE}"),
    Permission("Subscriptions", "Write", "post", f"/v1/subscriptions/sub_{PROBE}"),
    # Released when a customer cancels a subscription a schedule manages.
    Permission(
        "Subscription schedules", "Write", "post", f"/v1/subscription_schedules/sub_sched_{PROBE}"
    ),
    Permission("Invoices", "Write", "post", f"/v1/invoices/in_{PROBE}"),
    Permission("Payment methods", "Read", "get", "/v1/payment_methods"),
    Permission("SetupIntents", "Write", "post", f"/v1/setup_intents/seti_{PROBE}"),
    Permission("Products", "Read", "get", "/v1/products"),
    Permission("Prices", "Read", "get", "/v1/prices"),
    Permission("Events", "Read", "get", "/v1/events"),
)


@dataclass(frozen=True)
class KeyConnection:
    account_id: str
    key_last4: str
    webhook: WebhookSetup  # created, or to add by hand (then paste its signing secret)


def _check_form(key: str) -> None:
    if not key:
        raise ConnectionRefused("Paste your restricted key (it starts with rk_live_ or rk_test_).")
    if key.startswith("pk_"):
        raise ConnectionRefused(
            "This is a publishable key (pk_...), which cannot read billing data. Create a "
            "restricted key (rk_...) in your Stripe Dashboard under Developers → API keys."
        )
    if key.startswith("sk_"):
        raise ConnectionRefused(
            "This is a secret key with full access to your account. Billfold needs less: "
            "create a restricted key (rk_...) with the permissions listed below."
        )
    if not key.startswith(("rk_live_", "rk_test_")) or len(key) < 16 or not key.isascii():
        raise ConnectionRefused(
            "This does not look like a Stripe restricted key (rk_live_... or rk_test_...)."
        )
    if is_live_key(key) != platform_livemode():
        if is_live_key(key):
            raise ConnectionRefused(
                "This is a live key, but this Billfold site runs in test mode. Paste a test "
                "key (rk_test_...)."
            )
        raise ConnectionRefused(
            "This is a test key, but this Billfold site runs in live mode. Paste a live key "
            "(rk_live_...)."
        )


def _refuse_if_key_taken(tenant: Tenant, key: str) -> None:
    owner = db.session.scalar(
        select(Tenant.id).where(Tenant.stripe_api_key_lookup == keyring().lookup_hash(key))
    )
    if owner is not None and owner != tenant.id:
        raise ConnectionRefused(
            "This key is already used by another Billfold account. Create a separate "
            "restricted key for this one."
        )


def _read_account(client: stripe.StripeClient):
    try:
        account = client.v1.accounts.retrieve_current()
    except stripe.AuthenticationError as exc:
        code = (exc.json_body or {}).get("error", {}).get("code")
        if code == "api_key_expired":
            raise ConnectionRefused(
                "This key has expired. Create a new restricted key and paste it here."
            ) from None
        raise ConnectionRefused(
            "Stripe does not recognise this key. It may have been deleted or rolled; copy it "
            "again from your Stripe Dashboard."
        ) from None
    except stripe.APIConnectionError:
        raise ConnectionRefused(UNREACHABLE) from None
    except stripe.StripeError as exc:
        log.warning("reading a pasted key's account failed: %s", exc)
        raise ConnectionRefused(UNEXPECTED) from None
    if not isinstance(account.id, str) or not account.id.startswith("acct_"):
        raise ConnectionRefused(UNEXPECTED)
    return account


def missing_permissions(client: stripe.StripeClient) -> list[Permission]:
    missing = []
    for permission in NEEDED:
        params = {"limit": 1} if permission.method == "get" else {}
        try:
            client.raw_request(permission.method, permission.path, **params)
        except stripe.PermissionError:
            missing.append(permission)
        except stripe.InvalidRequestError:
            pass  # the probe's object does not exist: the permission let the call through
        except stripe.APIConnectionError:
            raise ConnectionRefused(UNREACHABLE) from None
        except stripe.StripeError as exc:
            log.warning("probing a pasted key failed: %s", exc)
            raise ConnectionRefused(UNEXPECTED) from None
    return missing


def describe_missing(missing: list[Permission]) -> str:
    names = "; ".join(f"{p.resource}: {p.level}" for p in missing)
    return (
        f"This key is missing permissions Billfold needs — {names}. In your Stripe Dashboard, "
        "edit the key (Developers → API keys), set these, and paste it again."
    )


def connect_with_api_key(tenant: Tenant, key: str, webhook_secret: str | None = None):
    """Check the key, create the webhook endpoint if it may, and record it (flushed)."""
    key = (key or "").strip()
    secret = (webhook_secret or "").strip() or None
    _check_form(key)
    if secret is not None and not secret.startswith("whsec_"):
        raise ConnectionRefused("A webhook signing secret starts with whsec_.")
    _refuse_if_key_taken(tenant, key)
    client = client_for_key(key)
    account = _read_account(client)
    account_id = account.id
    refuse_if_taken(tenant, account_id)
    missing = missing_permissions(client)
    if missing:
        raise ConnectionRefused(describe_missing(missing))
    created = None
    if secret is None:
        try:
            created = create_endpoint(client, tenant)
        except stripe.APIConnectionError:
            raise ConnectionRefused(UNREACHABLE) from None
        except stripe.StripeError as exc:
            log.warning("creating the webhook endpoint failed: %s", exc)
            raise ConnectionRefused(UNEXPECTED) from None
    forget_previous_account(tenant, account_id)
    tenant.connect_api_key(key, created[1] if created else secret, account_id)
    tenant.stripe_created_webhook_endpoint = created[0] if created else None
    tenant.timezone = tenant.timezone or timezone_of_account(account.to_dict())
    forget_app_tokens(tenant.id)
    db.session.flush()
    setup = WebhookSetup(endpoint_url(tenant), EVENTS, created=created is not None)
    return KeyConnection(account_id, key[-4:], setup)


def save_webhook_secret(tenant: Tenant, webhook_secret: str) -> None:
    """The signing secret of the endpoint the merchant added by hand (flushed)."""
    secret = (webhook_secret or "").strip()
    if not secret.startswith("whsec_") or len(secret) < 12 or not secret.isascii():
        raise ConnectionRefused(
            "Paste the endpoint's signing secret: it starts with whsec_ (in your Stripe "
            "Dashboard, open the endpoint and reveal its signing secret)."
        )
    if not tenant.stripe_api_key:
        raise ConnectionRefused("Connect a restricted key first.")
    tenant.stripe_webhook_secret = secret
    db.session.flush()
