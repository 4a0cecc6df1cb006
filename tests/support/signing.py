"""Sign a webhook body the way Stripe does (t=..., v1=HMAC-SHA256), to drive our endpoints."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid


def signature_header(body: bytes, secret: str, timestamp: int | None = None) -> str:
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def make_event(
    type_: str = "balance.available",
    obj: dict | None = None,
    *,
    account: str | None = None,
    livemode: bool = False,
    event_id: str | None = None,
) -> dict:
    return {
        "id": event_id or "evt_" + uuid.uuid4().hex[:24],
        "object": "event",
        "type": type_,
        "account": account,
        "livemode": livemode,
        "api_version": "2026-10-28",
        "created": int(time.time()),
        "data": {"object": obj or {"object": "balance", "available": []}},
    }


def encode(event: dict) -> bytes:
    return json.dumps(event).encode()
