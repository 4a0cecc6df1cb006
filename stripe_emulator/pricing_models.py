"""Tiered, usage-based and sub-cent prices, and quantity 0, as Stripe bills them.

docs.stripe.com/products-prices/pricing-models: a price is per unit (``unit_amount`` or, for
fractions of the smallest unit, ``unit_amount_decimal``) or tiered (``billing_scheme=tiered``,
``tiers_mode`` ``volume`` or ``graduated``, each tier with ``up_to``, ``unit_amount`` and
``flat_amount``). A price with a fraction of a cent has ``unit_amount: null`` and only
``unit_amount_decimal``; a tiered one has neither, and its ``tiers`` are returned only when
expanded (``expand[]=tiers``). docs.stripe.com/billing/subscriptions/usage-based: a metered
price (``recurring[usage_type]=metered``) bills usage in arrears, so a period's first invoice
charges nothing for it; its item has no quantity. docs.stripe.com/api/subscription_items/object:
a licensed item's quantity may be 0.

localstripe bills only whole-cent per-unit prices with quantity 1 or more. Prices now take
these terms; a tiered item is billed by its tiers (localstripe's own graduated sum charges
every unit at the first tier); an item with a sub-cent price is billed quantity × decimal,
rounded to the smallest unit as Stripe rounds a line; a metered item bills 0 (the emulator
records no usage); items accept quantity 0.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from localstripe import resources
from localstripe.resources import SubscriptionItem, try_convert_to_int

from .routing import stripe_error

TIERS_MODES = ("graduated", "volume")


def _bad(message: str):
    return stripe_error(400, message, code="parameter_invalid")


def per_unit_terms(unit_amount, unit_amount_decimal) -> tuple[int | None, str]:
    """(unit_amount, unit_amount_decimal): unit_amount is None when the price has a fraction
    of the currency's smallest unit."""
    if unit_amount is None and unit_amount_decimal is not None:
        try:
            decimal = Decimal(str(unit_amount_decimal))
        except InvalidOperation:
            raise _bad("unit_amount_decimal must be a number") from None
        if not decimal.is_finite() or decimal < 0:
            raise _bad("unit_amount_decimal must be a non-negative number")
        if decimal != decimal.to_integral_value():
            return None, format(decimal.normalize(), "f")
        unit_amount = int(decimal)
    unit_amount = try_convert_to_int(unit_amount)
    if type(unit_amount) is not int or unit_amount < 0:
        raise _bad("unit_amount must be a non-negative integer")
    return unit_amount, str(unit_amount)


def tiers_from(tiers, tiers_mode) -> list[dict]:
    """Validated tiers of a tiered price, in Stripe's shape (the last one up to "inf")."""
    if tiers_mode not in TIERS_MODES:
        raise _bad("tiers_mode must be one of graduated, volume")
    if not isinstance(tiers, list) or not tiers:
        raise _bad("tiers are required for billing_scheme=tiered")
    shaped = []
    for tier in tiers:
        if not isinstance(tier, dict) or "up_to" not in tier:
            raise _bad("each of tiers[] needs up_to")
        up_to = tier["up_to"] if tier["up_to"] == "inf" else try_convert_to_int(tier["up_to"])
        unit = try_convert_to_int(tier.get("unit_amount", 0))
        flat = try_convert_to_int(tier.get("flat_amount", 0))
        if not (up_to == "inf" or type(up_to) is int) or type(unit) is not int:
            raise _bad("tiers[][up_to] and tiers[][unit_amount] must be integers")
        shaped.append(
            {
                "up_to": None if up_to == "inf" else up_to,
                "unit_amount": unit,
                "unit_amount_decimal": str(unit),
                "flat_amount": flat if type(flat) is int else 0,
                "flat_amount_decimal": str(flat if type(flat) is int else 0),
            }
        )
    if shaped[-1]["up_to"] is not None:
        raise _bad('The last tier must have up_to="inf"')
    return shaped


def plan_tiers(tiers: list[dict]) -> list[dict]:
    """The same tiers as localstripe's Plan bills them."""
    return [
        {
            "up_to": "inf" if t["up_to"] is None else t["up_to"],
            "unit_amount": t["unit_amount"],
            "flat_amount": t["flat_amount"],
        }
        for t in tiers
    ]


def tiered_amount(tiers: list[dict], mode: str, quantity: int) -> int:
    """What a tiered price charges for `quantity`: volume prices all units at the tier the
    total falls in; graduated prices each unit at the tier it falls in (plus each reached
    tier's flat amount)."""
    if mode == "volume":
        tier = next(t for t in tiers if t["up_to"] is None or quantity <= t["up_to"])
        return tier["unit_amount"] * quantity + (tier["flat_amount"] if quantity else 0)
    amount, below = 0, 0
    for tier in tiers:
        if quantity <= below:
            break
        top = quantity if tier["up_to"] is None else min(quantity, tier["up_to"])
        amount += tier["unit_amount"] * (top - below) + tier["flat_amount"]
        below = top
    return amount


def _price_of(item):
    return resources.store.get("price:" + item.plan.id)


def _calculate_amount(original):
    def amount(self):
        price = _price_of(self)
        if self.plan.usage_type == "metered":
            return 0  # billed in arrears from usage the emulator does not record
        if price is not None and price.unit_amount is None and price.billing_scheme == "per_unit":
            exact = Decimal(price.unit_amount_decimal) * self.quantity
            return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        if price is not None and price.billing_scheme == "tiered":
            # localstripe's graduated sum charges every unit at the first tier's price
            return tiered_amount(price._tiers, price.tiers_mode, self.quantity)
        if self.quantity == 0:
            return 0
        return original(self)

    return amount


def _init_item(original):
    def init(self, subscription=None, plan=None, quantity=1, **kwargs):
        zero = try_convert_to_int(quantity) == 0
        original(self, subscription=subscription, plan=plan, quantity=1 if zero else quantity,
                 **kwargs)  # fmt: skip
        if zero:
            self.quantity = 0

    return init


def install_pricing_models() -> None:
    """Tiered, metered and sub-cent prices bill as at Stripe; items take quantity 0."""
    SubscriptionItem._calculate_amount = _calculate_amount(SubscriptionItem._calculate_amount)
    SubscriptionItem.__init__ = _init_item(SubscriptionItem.__init__)
