"""Verify a delivery's Stripe-Signature on the raw body and read the event out of it."""

from __future__ import annotations

import json

import stripe

SIGNATURE_TOLERANCE_SECONDS = 300


class RejectedDelivery(Exception):
    """A delivery we refuse: nothing is stored and Stripe is told why (4xx, or 5xx to retry)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def verified_event(payload: bytes, signature: str | None, secret: str) -> dict:
    """The event of a delivery whose Stripe-Signature matches `secret`, or RejectedDelivery."""
    if not signature:
        raise RejectedDelivery(400, "missing Stripe-Signature header")
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(text, signature, secret, SIGNATURE_TOLERANCE_SECONDS)
    except UnicodeDecodeError:
        raise RejectedDelivery(400, "body is not UTF-8") from None
    except stripe.SignatureVerificationError as exc:
        # Covers a wrong secret, a tampered body and a timestamp outside the tolerance.
        raise RejectedDelivery(400, f"signature check failed: {exc.user_message or exc}") from None
    try:
        event = json.loads(text)
    except ValueError:
        raise RejectedDelivery(400, "body is not JSON") from None
    if not isinstance(event, dict) or not str(event.get("id", "")).startswith("evt_"):
        raise RejectedDelivery(400, "body is not a Stripe event")
    if not isinstance(event.get("type"), str) or not isinstance(event.get("data"), dict):
        raise RejectedDelivery(400, "event has no type or data")
    return event
