"""What Stripe reads off a card number."""

from __future__ import annotations


def card_brand(number: str) -> str:
    """The card network from the number's first digits, as Stripe reports it."""
    if number.startswith(("34", "37")):
        return "amex"
    if number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(number[:4] or 0) <= 2720:
        return "mastercard"
    if number.startswith(("6011", "65")):
        return "discover"
    return "visa" if number.startswith("4") else "unknown"
