"""What a subscription's items cost, in words that never promise a sum Stripe will not charge.

Stripe prices an item per unit (whole or fractional minor units), by tiers of quantity, or by
usage billed after the period; items of one subscription may renew on different intervals, and
discounts and tax change the invoice. Only the preview of the next invoice (create_preview)
knows its amount; without one, the portal states what it knows and says the rest is not known.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.portal.formatting import interval_label, money


@dataclass
class LineView:
    product: str
    quantity: int
    unit_amount: int | None
    currency: str | None
    interval: str | None
    interval_count: int | None
    billing_scheme: str = "per_unit"
    usage_type: str = "licensed"
    unit_amount_decimal: Decimal | None = None

    @property
    def tiered(self) -> bool:
        return self.billing_scheme == "tiered"

    @property
    def metered(self) -> bool:
        return self.usage_type == "metered"

    @property
    def unit_price(self) -> Decimal | int | None:
        """Per unit, in minor units: a fraction of a cent is kept (unit_amount is null then)."""
        if self.tiered:
            return None
        if self.unit_amount is not None:
            return self.unit_amount
        return self.unit_amount_decimal

    @property
    def fixed(self) -> bool:
        """Billed ahead at a known price per unit: its amount is quantity × unit price."""
        return not self.tiered and not self.metered and self.unit_price is not None

    @property
    def amount(self) -> Decimal | int:
        return (self.unit_price or 0) * self.quantity if self.fixed else 0

    @property
    def period(self) -> str:
        return interval_label(self.interval, self.interval_count)

    @property
    def description(self) -> str:
        """One line of the item list: 'Seats × 7 (tiered price: …)'."""
        if self.metered:
            what = (
                "tiered price, billed by usage"
                if self.tiered or self.unit_price is None
                else f"{money(self.unit_price, self.currency)} per unit used"
            )
            return f"{self.product} ({what} {self.period})".replace(" )", ")")
        head = f"{self.product} × {self.quantity:,}"
        if self.tiered:
            return f"{head} (tiered price: the amount depends on the quantity)"
        return f"{head} ({money(self.unit_price, self.currency)} each)"


def price_summary(lines: list[LineView], currency: str | None, discounted: bool, taxed: bool):
    """The headline price: each interval's fixed total ('$10.00 per month + $120.00 per
    year'), what varies, and what the totals leave out."""
    totals: dict[tuple, Decimal | int] = {}
    for line in lines:
        if line.fixed:
            key = (line.interval, line.interval_count)
            totals[key] = totals.get(key, 0) + line.amount
    parts = [f"{money(total, currency)} {interval_label(*key)}".strip() for key, total in
             totals.items()]  # fmt: skip
    if any(line.metered for line in lines):
        parts.append("usage")
    if any(line.tiered and not line.metered for line in lines):
        parts.append("a tiered price")
    text = " + ".join(parts) or money(0, currency)
    left_out = [word for word, applies in (("discounts", discounted), ("tax", taxed)) if applies]
    if left_out and totals:
        text += " before " + " and ".join(left_out)
    return text


def known_amount(lines: list[LineView], discounted: bool, taxed: bool) -> int | None:
    """The next invoice's amount when the prices alone decide it, else None: every item billed
    ahead at a known price, all on one interval (each renewal bills them all), in whole minor
    units, with no discount or tax to apply."""
    if not lines or discounted or taxed or not all(line.fixed for line in lines):
        return None
    if len({(line.interval, line.interval_count) for line in lines}) > 1:
        return None
    total = sum(line.amount for line in lines)
    return int(total) if total == int(total) else None


def unknown_because(lines: list[LineView], discounted: bool, taxed: bool) -> str:
    """Why the next amount is not known without Stripe's preview, in a few words."""
    reasons = [
        reason
        for reason, applies in (
            ("usage", any(line.metered for line in lines)),
            ("the price tiers", any(line.tiered for line in lines)),
            ("which items renew then", len({(ln.interval, ln.interval_count) for ln in lines}) > 1),
            ("discounts", discounted),
            ("tax", taxed),
        )
        if applies
    ] or ["rounding"]
    return reasons[0] if len(reasons) == 1 else ", ".join(reasons[:-1]) + " and " + reasons[-1]


def shows_item_list(lines: list[LineView]) -> bool:
    return len(lines) > 1 or any(line.quantity != 1 or not line.fixed for line in lines)
