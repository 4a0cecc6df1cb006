"""The Tenant: a merchant, its branding, its portal settings and its Stripe connection."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import JSON, Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.attributes import flag_modified

from app.clock import utcnow
from app.extensions import db
from tenants.crypto import EncryptedText, keyring

# What a setting may hold is decided in tenants/validation.py, wherever it is set from.


class TenantStatus:
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ALL = (ACTIVE, SUSPENDED)


class StripeConnectionStatus:
    NOT_CONNECTED = "not_connected"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


class ConnectionMethod:
    """How the merchant let Billfold reach its Stripe account."""

    CONNECT = "connect"  # Stripe Connect (OAuth or `flask tenants set --stripe-account`)
    STRIPE_APP = "stripe_app"  # Billfold's Stripe App installed through OAuth: expiring tokens
    API_KEY = "api_key"  # a restricted key the merchant pasted


DEFAULT_CLOSED_MESSAGE = "This billing portal is closed for now. Please contact us for help."

LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")


def is_live_key(key: str | None) -> bool:
    """Stripe secret and restricted keys say their mode: *_live_ keys are live, others test."""
    return bool(key) and key.startswith(LIVE_KEY_PREFIXES)


def platform_livemode() -> bool:
    """The platform's mode: its secret key's, or STRIPE_LIVEMODE where no key is configured."""
    key = current_app.config.get("STRIPE_SECRET_KEY")
    return is_live_key(key) if key else bool(current_app.config.get("STRIPE_LIVEMODE"))


ENCRYPTED_ATTRIBUTES = (
    "_stripe_account_id",
    "_stripe_api_key",
    "stripe_webhook_secret",
)


@dataclass(frozen=True)
class IngestFacts:
    """A tenant as webhook ingest sees it (see Tenant.ingest_facts_by_account)."""

    id: int
    stripe_status: str
    expected_livemode: bool


class Tenant(db.Model):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subdomain: Mapped[str] = mapped_column(String(63), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=TenantStatus.ACTIVE)
    # Set by an operator who suspends the tenant: its dashboard shows the reason, its portal a
    # neutral "temporarily unavailable", and its Stripe events wait unprocessed until resumed.
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    suspended_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When the portal opened to customers. A tenant made by sign-up has none until its owner's
    # address is verified and its Stripe connected (app/merchant/golive.py); until then its
    # host answers as an unknown one does. The CLI's and the demo's tenants are live at once.
    live_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # Branding: shown on the portal and in every email sent for this tenant.
    logo_url: Mapped[str | None] = mapped_column(String(500))
    primary_color: Mapped[str] = mapped_column(String(7), nullable=False, default="#4f46e5")
    accent_color: Mapped[str] = mapped_column(String(7), nullable=False, default="#0ea5e9")
    sender_name: Mapped[str | None] = mapped_column(String(120))
    support_email: Mapped[str | None] = mapped_column(String(254))
    support_url: Mapped[str | None] = mapped_column(String(500))
    # Dates shown to customers are in this IANA zone (tenants/timezones.py); None: not chosen
    # yet, so UTC until the Stripe account tells its own.
    timezone: Mapped[str | None] = mapped_column(String(64))

    # Portal settings: enforced on the server, not only by hiding buttons.
    allow_cancel: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    allow_reactivate: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    allow_card_update: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    allow_invoice_payment: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    ask_cancel_reason: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # The reasons a cancelling customer picks from (a list of short strings); none: free text only.
    cancel_reasons: Mapped[list[str] | None] = mapped_column(JSON)
    # Where "Back to <merchant>" in the portal leads: the merchant's own site.
    return_url: Mapped[str | None] = mapped_column(String(500))
    # The merchant closed its portal: customers read the message instead of any portal page.
    portal_closed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    portal_closed_message: Mapped[str | None] = mapped_column(String(500))

    # Stripe connection: a Connect account, or an account reached by a restricted API key.
    stripe_status: Mapped[str] = mapped_column(
        String(20), nullable=False, default=StripeConnectionStatus.NOT_CONNECTED
    )
    _stripe_account_id: Mapped[str | None] = mapped_column("stripe_account_id", EncryptedText)
    # Keyed hash of the account id: webhooks find their tenant without decrypting every row.
    stripe_account_lookup: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A Stripe App's access and refresh tokens live in StripeAppTokens (tenants/app_tokens.py).
    _stripe_api_key: Mapped[str | None] = mapped_column("stripe_api_key", EncryptedText)
    # Keyed hash of the key (one key never serves two tenants) and its last 4 characters, the
    # only part of it ever shown again.
    stripe_api_key_lookup: Mapped[str | None] = mapped_column(String(64), unique=True)
    stripe_api_key_last4: Mapped[str | None] = mapped_column(String(4))
    stripe_webhook_secret: Mapped[str | None] = mapped_column(EncryptedText)
    stripe_connection_method: Mapped[str | None] = mapped_column(String(20))
    # The endpoint Billfold created on the merchant's account (we_...), deleted on disconnect;
    # None when the merchant added it by hand.
    stripe_created_webhook_endpoint: Mapped[str | None] = mapped_column(String(255))
    # Why the connection ended when the merchant did not end it (Stripe refused to renew the
    # app's access, say): the dashboard shows it until they connect again.
    stripe_disconnected_reason: Mapped[str | None] = mapped_column(String(300))
    stripe_disconnected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Public id in the webhook URL of a tenant connected by API key: /webhooks/stripe/<id>.
    webhook_endpoint_id: Mapped[str] = mapped_column(
        String(40), unique=True, nullable=False, default=lambda: "whep_" + secrets.token_hex(12)
    )
    stripe_livemode: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    stripe_connected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __init__(self, **fields) -> None:
        # Live from creation unless told otherwise (sign-up says live_at=None). Not a column
        # default: SQLAlchemy would put the default in place of an explicit None too.
        fields.setdefault("live_at", utcnow())
        super().__init__(**fields)

    @property
    def stripe_account_id(self) -> str | None:
        return self._stripe_account_id

    @stripe_account_id.setter
    def stripe_account_id(self, account_id: str | None) -> None:
        self._stripe_account_id = account_id
        self.stripe_account_lookup = keyring().lookup_hash(account_id) if account_id else None

    @property
    def stripe_api_key(self) -> str | None:
        return self._stripe_api_key

    @stripe_api_key.setter
    def stripe_api_key(self, key: str | None) -> None:
        self._stripe_api_key = key
        self.stripe_api_key_lookup = keyring().lookup_hash(key) if key else None
        self.stripe_api_key_last4 = key[-4:] if key else None

    @property
    def is_active(self) -> bool:
        return self.status == TenantStatus.ACTIVE

    @property
    def is_live(self) -> bool:
        return self.live_at is not None

    @property
    def closed_notice(self) -> str:
        return self.portal_closed_message or DEFAULT_CLOSED_MESSAGE

    @property
    def display_sender(self) -> str:
        return self.sender_name or self.name

    def suspend(self, reason: str) -> None:
        self.status = TenantStatus.SUSPENDED
        self.suspended_at = utcnow()
        self.suspended_reason = reason

    def resume(self) -> None:
        self.status = TenantStatus.ACTIVE
        self.suspended_at = None
        self.suspended_reason = None

    def connect_account(self, account_id: str, method: str = ConnectionMethod.CONNECT) -> None:
        """Record a Stripe Connect account (or the account a Stripe App was installed on) as
        this tenant's Stripe (its mode: the platform's)."""
        self.stripe_account_id = account_id
        self.stripe_api_key = None
        self.stripe_webhook_secret = None
        self.stripe_created_webhook_endpoint = None
        self.stripe_connection_method = method
        self.stripe_livemode = platform_livemode()
        self._mark_connected()

    def connect_api_key(
        self, api_key: str, webhook_secret: str | None, account_id: str | None = None
    ) -> None:
        """Record a restricted API key (and its webhook signing secret) as this tenant's Stripe.

        The key says its mode (rk_live_... or rk_test_...); events of the other mode are ignored.
        `account_id`: the account the key belongs to, when it was read (one account, one tenant).
        """
        self.stripe_api_key = api_key
        self.stripe_webhook_secret = webhook_secret
        self.stripe_account_id = account_id
        self.stripe_connection_method = ConnectionMethod.API_KEY
        self.stripe_livemode = is_live_key(api_key)
        self._mark_connected()

    def _mark_connected(self) -> None:
        self.stripe_status = StripeConnectionStatus.CONNECTED
        self.stripe_connected_at = utcnow()
        self.stripe_disconnected_reason = None
        self.stripe_disconnected_at = None

    def mark_disconnected(self, reason: str | None = None) -> None:
        """Stop using the account and forget every credential of it (tokens: the caller)."""
        self.stripe_status = StripeConnectionStatus.DISCONNECTED
        self.stripe_account_id = None
        self.stripe_api_key = None
        self.stripe_webhook_secret = None
        self.stripe_created_webhook_endpoint = None
        self.stripe_disconnected_reason = reason
        self.stripe_disconnected_at = utcnow()

    def reencrypt_credentials(self) -> None:
        """Write every credential again so it is stored under the newest encryption key."""
        for attr in ENCRYPTED_ATTRIBUTES:
            flag_modified(self, attr)
        self.stripe_account_id = self.stripe_account_id  # also refreshes the lookup hashes
        self.stripe_api_key = self.stripe_api_key

    @classmethod
    def by_stripe_account(cls, account_id: str) -> Tenant | None:
        lookup = keyring().lookup_hash(account_id)
        return db.session.execute(
            db.select(cls).where(cls.stripe_account_lookup == lookup)
        ).scalar_one_or_none()

    @property
    def expected_livemode(self) -> bool:
        """The mode of the events this tenant's Stripe sends, derived now, never stored: its own
        key's, or for a Connect account the platform's (going live moves every Connect tenant).
        `stripe_livemode` keeps what it was at connection time, for display."""
        if self.stripe_api_key:
            return is_live_key(self.stripe_api_key)
        return platform_livemode()

    @classmethod
    def ingest_facts_by_account(cls, account_id: str) -> IngestFacts | None:
        """What storing a delivered event needs of the tenant behind a Connect account, from one
        narrow row: a webhook never loads the whole tenant or its encrypted credentials."""
        lookup = keyring().lookup_hash(account_id)
        row = db.session.execute(
            db.select(cls.id, cls.stripe_status).where(cls.stripe_account_lookup == lookup)
        ).one_or_none()
        if row is None:
            return None
        return IngestFacts(row.id, row.stripe_status, platform_livemode())

    @classmethod
    def by_subdomain(cls, subdomain: str) -> Tenant | None:
        return db.session.execute(
            db.select(cls).where(cls.subdomain == subdomain)
        ).scalar_one_or_none()

    def __repr__(self) -> str:
        return f"<Tenant {self.subdomain}>"
