"""Stripe's minor units: how many decimals an API amount has in each currency.

Stripe's exponent is not always ISO 4217's: Stripe sends ISK as two-decimal (always ending 00)
and charges HUF and TWD in two-decimal amounts, while CLDR writes all three whole. So the value
of an amount comes from Stripe's rules here, and only its writing from the locale's.
Source: docs.stripe.com/currencies (zero-decimal, three-decimal, special cases).
"""

from __future__ import annotations

from decimal import Decimal

ZERO_DECIMAL = frozenset({
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
})  # fmt: skip
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})


def exponent(currency: str | None) -> int:
    """Digits after the decimal point in Stripe's integer amounts of `currency`."""
    code = (currency or "").lower()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2  # every other currency, ISK, HUF and TWD included


def major_units(amount: int | Decimal, currency: str | None) -> Decimal:
    """An API amount as a decimal value: 12500 KWD is 12.500, 1500 JPY is 1500."""
    return Decimal(amount).scaleb(-exponent(currency))
