"""The /v1/prices API, backed by a localstripe Plan of the same id for recurring prices."""

from __future__ import annotations

from localstripe import resources
from localstripe.resources import (
    Plan,
    Product,
    StripeObject,
    UserError,
    try_convert_to_bool,
    try_convert_to_int,
)

from .pricing_models import per_unit_terms, plan_tiers, tiers_from
from .routing import stripe_error

INTERVALS = ("day", "week", "month", "year")
PRODUCT_DATA_FIELDS = {"name", "metadata", "statement_descriptor", "active"}


def _bad(message: str) -> UserError:
    return stripe_error(400, message, code="parameter_invalid")


def _recurring(recurring) -> dict | None:
    if recurring is None:
        return None
    if not isinstance(recurring, dict) or recurring.get("interval") not in INTERVALS:
        raise _bad("recurring[interval] must be one of day, week, month, year")
    interval_count = try_convert_to_int(recurring.get("interval_count", 1))
    if type(interval_count) is not int or interval_count < 1:
        raise _bad("recurring[interval_count] must be a positive integer")
    usage_type = recurring.get("usage_type", "licensed")
    if usage_type not in ("licensed", "metered"):
        raise _bad("recurring[usage_type] must be licensed or metered")
    return {
        "interval": recurring["interval"],
        "interval_count": interval_count,
        "usage_type": usage_type,
        "aggregate_usage": None,
        "trial_period_days": None,
        "meter": recurring.get("meter") if usage_type == "metered" else None,
    }


class Price(StripeObject):
    """A Stripe Price; recurring ones get a twin Plan so subscriptions can bill them."""

    object = "price"
    _id_prefix = "price_"

    def __init__(
        self,
        currency=None,
        unit_amount=None,
        unit_amount_decimal=None,
        product=None,
        product_data=None,
        recurring=None,
        nickname=None,
        active=True,
        metadata=None,
        lookup_key=None,
        tax_behavior=None,
        billing_scheme="per_unit",
        tiers=None,
        tiers_mode=None,
        **kwargs,
    ):
        if kwargs:
            raise _bad("Unexpected " + ", ".join(kwargs))
        if not isinstance(currency, str) or not currency:
            raise _bad("currency is required")
        if billing_scheme not in ("per_unit", "tiered"):
            raise _bad("billing_scheme must be per_unit or tiered")
        if billing_scheme == "tiered":
            tiers = tiers_from(tiers, tiers_mode)
            amount, decimal = None, None
        else:
            amount, decimal = per_unit_terms(unit_amount, unit_amount_decimal)
        recurring = _recurring(recurring)
        active = try_convert_to_bool(active)
        if (product is None) == (product_data is None):
            raise _bad("Exactly one of product or product_data is required")
        if isinstance(product, str):
            Product._api_retrieve(product)  # 404 if it does not exist
        elif not isinstance(product_data, dict) or not product_data.get("name"):
            raise _bad("product_data[name] is required")

        if product is None:
            fields = {k: v for k, v in product_data.items() if k in PRODUCT_DATA_FIELDS}
            product = Product(type="service", **fields).id

        super().__init__()
        self.active = active is not False
        self.billing_scheme = billing_scheme
        self.currency = currency.lower()
        self.custom_unit_amount = None
        self.lookup_key = lookup_key
        self.metadata = metadata or {}
        self.nickname = nickname
        self.product = product
        self.recurring = recurring
        self.tax_behavior = tax_behavior or "unspecified"
        self.tiers_mode = tiers_mode if billing_scheme == "tiered" else None
        self._tiers = tiers if billing_scheme == "tiered" else None  # only when expanded
        self.transform_quantity = None
        self.type = "recurring" if recurring else "one_time"
        self.unit_amount = amount
        self.unit_amount_decimal = decimal

        if recurring:
            tiered = {"tiers": plan_tiers(tiers), "tiers_mode": tiers_mode} if tiers else {}
            Plan(
                id=self.id,
                amount=amount or 0,  # a sub-cent price bills by its decimal (pricing_models)
                billing_scheme=billing_scheme,
                usage_type=recurring["usage_type"],
                **tiered,
                currency=self.currency,
                interval=recurring["interval"],
                interval_count=recurring["interval_count"],
                product=product,
                nickname=nickname,
                active=self.active,
                metadata=dict(self.metadata),
            )
        resources.schedule_webhook(resources.Event("price.created", self))

    @classmethod
    def _api_update(cls, id, **data):
        allowed = {"active", "nickname", "metadata", "lookup_key", "tax_behavior"}
        unexpected = set(data) - allowed
        if unexpected:
            raise _bad("Unexpected " + ", ".join(sorted(unexpected)))
        if "active" in data:
            data["active"] = try_convert_to_bool(data["active"])
        price = super()._api_update(id, **data)
        plan = resources.store.get("plan:" + price.id)
        if plan is not None:  # keep the twin Plan billing the same way
            plan.active = price.active
            plan.nickname = price.nickname
        resources.schedule_webhook(resources.Event("price.updated", price))
        return price

    @classmethod
    def _api_delete(cls, id):
        raise stripe_error(405, "Prices cannot be deleted; set active=false instead")

    @classmethod
    def _api_list_all(
        cls,
        url,
        active=None,
        product=None,
        type=None,
        currency=None,
        lookup_keys=None,
        limit=None,
        starting_after=None,
        **kwargs,
    ):
        if kwargs:
            raise _bad("Unexpected " + ", ".join(kwargs))
        prices = super()._api_list_all(url, limit=limit, starting_after=starting_after)
        active = try_convert_to_bool(active)
        if isinstance(lookup_keys, str):
            lookup_keys = [lookup_keys]
        filters = [
            (active, lambda p: p.active == active),
            (product, lambda p: p.product == product),
            (type, lambda p: p.type == type),
            (currency, lambda p: p.currency == str(currency).lower()),
            (lookup_keys, lambda p: p.lookup_key in lookup_keys),
        ]
        for value, keep in filters:
            if value is not None:
                prices._list = [p for p in prices._list if keep(p)]
        prices._list.sort(key=lambda p: p.created, reverse=True)
        return prices


def plan_id_for_price(price_id) -> str:
    """The Plan billing a recurring price (they share the id); 404/400 like Stripe."""
    if not isinstance(price_id, str):
        raise _bad("price must be a price id")
    price = resources.store.get("price:" + price_id)
    if price is None:
        raise stripe_error(404, f"No such price: '{price_id}'", code="resource_missing")
    if price.type != "recurring":
        raise _bad(f"The price specified ({price_id}) is not a recurring price")
    return price.id


def price_for_plan(plan) -> dict:
    """`price` object for a Plan: the Price itself, or the equivalent a legacy plan implies."""
    price = resources.store.get("price:" + plan.id)
    if price is not None:
        return price._export()
    return {
        "id": plan.id,
        "object": "price",
        "active": plan.active,
        "billing_scheme": plan.billing_scheme,
        "created": plan.created,
        "currency": plan.currency,
        "livemode": False,
        "lookup_key": None,
        "metadata": plan.metadata,
        "nickname": plan.nickname,
        "product": plan.product,
        "recurring": {
            "interval": plan.interval,
            "interval_count": plan.interval_count,
            "usage_type": plan.usage_type,
        },
        "type": "recurring",
        "unit_amount": plan.amount,
        "unit_amount_decimal": str(plan.amount),
    }


def items_with_plans(items):
    """Translate `items[].price` into the `items[].plan` localstripe bills by (in place)."""
    if not isinstance(items, list):
        return items
    for item in items:
        if isinstance(item, dict) and item.get("price") is not None:
            item["plan"] = plan_id_for_price(item.pop("price"))
    return items


def _line_price(self):
    return price_for_plan(self.plan) if self.plan is not None else None


def _line_pricing(self):
    if self.plan is None:
        return None
    return {
        "type": "price_details",
        "price_details": {"price": self.plan.id, "product": self.plan.product},
        "unit_amount_decimal": str(self.plan.amount),
    }


def _item_price(self):
    return price_for_plan(self.plan)


def install_prices() -> type[Price]:
    """/v1/prices, and `price` objects on subscription items and invoice lines.

    localstripe only knows legacy Plans. A recurring Price creates a Plan with the same id,
    so everything localstripe bills by plan keeps working; `items[].price` is translated to
    `items[].plan` by the subscription and invoice patches (see items_with_plans).
    """
    resources.SubscriptionItem.price = property(_item_price)
    resources.InvoiceLineItem.price = property(_line_price)
    resources.InvoiceLineItem.pricing = property(_line_pricing)
    return Price
