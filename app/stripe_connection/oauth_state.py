"""The `state` of an OAuth round trip: bound to the merchant's session, single use, 10 minutes.

It is `nonce.flow.tenant.expiry.mac`, the mac an HMAC (SECRET_KEY) over those and an opaque value
of the merchant's session (any stable secret the session holds), so a state taken from one
browser is worthless in another, and a state of one flow or tenant worthless in another. The
nonce is spent in Redis (SET NX) on its first use; without Redis (the demo's single process), in
memory.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time

import redis
from flask import current_app

STATE_SECONDS = 600
_spent_here: dict[str, float] = {}
_spent_lock = threading.Lock()


def _mac(payload: str, session_value: str) -> str:
    key = ("oauth-state:" + current_app.config["SECRET_KEY"]).encode()
    message = f"{payload}|{session_value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def issue_state(flow: str, tenant_id: int, session_value: str) -> str:
    if not session_value:
        raise ValueError("an OAuth state needs the merchant's session value")
    payload = f"{secrets.token_urlsafe(16)}.{flow}.{tenant_id}.{int(time.time()) + STATE_SECONDS}"
    return f"{payload}.{_mac(payload, session_value)}"


def take_state(state: str | None, flow: str, tenant_id: int, session_value: str) -> bool:
    """True once for a state this session was issued for this flow and tenant, still fresh."""
    if not state or not session_value or state.count(".") != 4:
        return False
    payload, _, mac = state.rpartition(".")
    if not hmac.compare_digest(mac, _mac(payload, session_value)):
        return False
    nonce, state_flow, state_tenant, expiry = payload.split(".")
    if state_flow != flow or state_tenant != str(tenant_id) or not expiry.isdigit():
        return False
    if time.time() > int(expiry):
        return False
    return _spend(nonce)


def _spend(nonce: str) -> bool:
    url = current_app.config.get("REDIS_URL")
    if url:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        return bool(client.set(f"billfold:oauth-state:{nonce}", 1, nx=True, ex=STATE_SECONDS))
    now = time.time()
    with _spent_lock:
        for old in [n for n, until in _spent_here.items() if until < now]:
            del _spent_here[old]
        if nonce in _spent_here:
            return False
        _spent_here[nonce] = now + STATE_SECONDS
        return True
