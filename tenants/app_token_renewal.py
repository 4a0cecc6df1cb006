"""Renewing a Stripe App's access token, under every Stripe call of its tenant.

The access token lives an hour. `AppTokenHTTPClient` wraps the shared HTTP client of a tenant's
StripeClient: before a call whose token is known to have expired it renews it, and when Stripe
answers 401 it renews once and sends the call again, so no caller ever sees the expiry.

A renewal spends the refresh token (Stripe answers a new one and refuses the old), so it is
written at once on its own connection, serialised by a row lock on the tenant's tokens: two
workers finding the token expired together renew it once, and the second takes the first one's
result. If Stripe refuses the refresh token (the merchant removed the app), the tokens are
deleted and the tenant is marked disconnected with the reason, which the dashboard shows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import stripe
from sqlalchemy import text

from app.clock import as_utc, utcnow
from app.commits import record_side_effect
from app.extensions import db
from tenants.crypto import keyring
from tenants.host_cache import forget_tenants
from tenants.models import StripeConnectionStatus

log = logging.getLogger(__name__)

# Renew this long before Stripe's expiry, so a call sent just before it does not fail on the way.
EXPIRY_MARGIN = timedelta(seconds=30)
REFUSED_REASON = (
    "Stripe no longer lets Billfold reach your account (the app was removed or its access "
    "ended). Connect your Stripe account again to resume syncing."
)


class AppAccessRefused(stripe.AuthenticationError):
    """Stripe refused to renew the app's access: the tenant is now disconnected."""


def token_expiry(expires_in) -> datetime:
    seconds = expires_in if isinstance(expires_in, int) and expires_in > 0 else 3600
    return utcnow() + timedelta(seconds=seconds)


def _bearer(headers: dict) -> str | None:
    scheme, _, value = headers.get("Authorization", "").partition(" ")
    return value if scheme == "Bearer" and value else None


class AppTokenRenewer:
    """One tenant's current access token, renewed through `refresh` when it has expired."""

    def __init__(
        self,
        tenant_id: int,
        access_token: str,
        expires_at: datetime,
        refresh: Callable[[str], dict],
    ) -> None:
        self.tenant_id = tenant_id
        self._access_token = access_token
        self._expires_at = as_utc(expires_at)
        self._refresh = refresh
        self._lock = threading.Lock()  # a backfill reads from several threads
        # Tokens this renewer replaced: the client still names the first one in every call.
        self.replaced: set[str] = set()

    @property
    def access_token(self) -> str:
        return self._access_token

    def known_expired(self, token: str) -> bool:
        return token == self._access_token and utcnow() >= self._expires_at - EXPIRY_MARGIN

    def renew(self, stale_token: str) -> str:
        with self._lock:
            if stale_token != self._access_token:
                return self._access_token  # another thread renewed it meanwhile
            self._access_token, self._expires_at = renew_app_tokens(
                self.tenant_id, stale_token, self._refresh
            )
            self.replaced.add(stale_token)
            return self._access_token


class AppTokenHTTPClient(stripe.HTTPClient):
    """Sends a tenant's calls through the shared client, renewing its access token as needed."""

    name = "urllib3"

    def __init__(self, inner: stripe.HTTPClient, renewer: AppTokenRenewer) -> None:
        super().__init__()
        self._inner = inner
        self._renewer = renewer

    @property
    def requests_sent(self) -> int:
        return self._inner.requests_sent

    def request(self, method, url, headers, post_data=None):
        headers = dict(headers or {})
        token = self._fresh_token(headers)
        content, status, answer_headers = self._inner.request(method, url, headers, post_data)
        if status == 401 and token is not None:
            # Expired sooner than we knew, or revoked: renew once (a refusal disconnects).
            log.info("stripe answered 401 for tenant %s: renewing its access token", self._tenant)
            headers["Authorization"] = "Bearer " + self._renewer.renew(token)
            content, status, answer_headers = self._inner.request(method, url, headers, post_data)
        return content, status, answer_headers

    def request_stream(self, method, url, headers, post_data=None):
        headers = dict(headers or {})
        self._fresh_token(headers)  # a stream's 401 cannot be read and replayed: renew before
        return self._inner.request_stream(method, url, headers, post_data)

    @property
    def _tenant(self) -> int:
        return self._renewer.tenant_id

    def _fresh_token(self, headers: dict) -> str | None:
        token = _bearer(headers)
        if token is None:
            return None
        if token in self._renewer.replaced:
            token = self._renewer.access_token
            headers["Authorization"] = "Bearer " + token
        if self._renewer.known_expired(token):
            token = self._renewer.renew(token)
            headers["Authorization"] = "Bearer " + token
        return token

    def close(self) -> None:
        pass  # the shared client outlives every tenant's


def _answer_tokens(answer) -> tuple[str, str, datetime]:
    data = answer if isinstance(answer, dict) else getattr(answer, "data", answer)
    access, refresh = data.get("access_token"), data.get("refresh_token")
    if not isinstance(access, str) or not isinstance(refresh, str) or not access or not refresh:
        raise stripe.APIError("Stripe's token answer has no access or refresh token")
    return access, refresh, token_expiry(data.get("expires_in"))


def renew_app_tokens(
    tenant_id: int, stale_token: str, refresh: Callable[[str], dict]
) -> tuple[str, datetime]:
    """Renew the tenant's access token (unless another process did already); committed at once.

    `refresh(refresh_token)` asks Stripe's token endpoint and answers its JSON. Returns the
    current access token and its expiry. Raises AppAccessRefused when Stripe refuses.
    """
    if db.engine.dialect.name != "postgresql":
        return _renew(db.session.connection(), tenant_id, stale_token, refresh, own=False)
    with db.engine.connect() as connection:
        _wait_at_most(connection)
        try:
            return _renew(connection, tenant_id, stale_token, refresh, own=True)
        finally:
            connection.rollback()  # whatever was not committed


def _wait_at_most(connection) -> None:
    """Wait for a row lock 5 s at most in this transaction, never forever."""
    connection.execute(text("SET LOCAL lock_timeout = '5s'"))


def _renew(connection, tenant_id: int, stale_token: str, refresh, *, own: bool):
    from tenants.context import tenant_context

    ring = keyring()
    with tenant_context(tenant_id):
        row = connection.execute(
            text(
                "SELECT access_token, refresh_token, access_token_expires_at "
                "FROM stripe_app_tokens WHERE tenant_id = :tenant" + (" FOR UPDATE" if own else "")
            ),
            {"tenant": tenant_id},
        ).one_or_none()
        if row is None:
            raise AppAccessRefused("the tenant's Stripe App tokens are gone (disconnected)")
        current = ring.decrypt(row.access_token)
        expires_at = as_utc(row.access_token_expires_at)
        if current != stale_token and utcnow() < expires_at - EXPIRY_MARGIN:
            return current, expires_at  # renewed by another process while we waited
        try:
            access, refresh_token, expires_at = _answer_tokens(
                refresh(ring.decrypt(row.refresh_token))
            )
        except stripe.oauth_error.OAuthError as exc:
            _record_refusal(connection, tenant_id, exc, own=own)
            raise AppAccessRefused(REFUSED_REASON) from exc
        connection.execute(
            text(
                "UPDATE stripe_app_tokens SET access_token = :access, refresh_token = :refresh, "
                "access_token_expires_at = :expires, renewed_at = :now WHERE tenant_id = :tenant"
            ),
            {
                "access": ring.encrypt(access),
                "refresh": ring.encrypt(refresh_token),
                "expires": expires_at,
                "now": utcnow(),
                "tenant": tenant_id,
            },
        )
        if own:
            record_side_effect(connection)
    log.info("renewed the Stripe App access token of tenant %s", tenant_id)
    return access, expires_at


def _record_refusal(connection, tenant_id: int, exc: Exception, *, own: bool) -> None:
    log.warning("stripe refused to renew tenant %s's app access: %s", tenant_id, exc)
    connection.execute(
        text("DELETE FROM stripe_app_tokens WHERE tenant_id = :tenant"), {"tenant": tenant_id}
    )
    if own:
        record_side_effect(connection)  # the spent tokens are gone whatever the tenant's row does
        _wait_at_most(connection)
    # The tenant's row may be held FOR SHARE by a backfill of this very tenant waiting on this
    # call: then lock_timeout ends the wait, and the next client for the tenant finds no tokens
    # and marks it (tenants.stripe_client).
    try:
        connection.execute(
            text(
                "UPDATE tenants SET stripe_status = :status, stripe_disconnected_reason = :why, "
                "stripe_disconnected_at = :now WHERE id = :tenant"
            ),
            {
                "status": StripeConnectionStatus.DISCONNECTED,
                "why": REFUSED_REASON,
                "now": utcnow(),
                "tenant": tenant_id,
            },
        )
        if own:
            record_side_effect(connection)
        forget_tenants()  # written past the session: its hooks do not see it
    except Exception:  # noqa: BLE001 - a lock timeout: the tokens are gone, marked later
        log.warning("tenant %s not marked disconnected yet (its row is busy)", tenant_id)
