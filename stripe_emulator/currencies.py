"""Charge amounts checked against each currency's minor units, as Stripe checks them.

Stripe amounts are integers in the currency's smallest unit (docs.stripe.com/currencies):

* three-decimal currencies (BHD, JOD, KWD, OMR, TND) count thousandths, but card networks
  settle only hundredths, so a charge's last digit must be 0 (12.340 KWD is 12340; 12345 is
  refused);
* ISK is sent as a two-decimal amount whose decimals are always 00 (5 ISK is 500): no fraction
  of a króna can be charged.

localstripe takes any integer in any currency, so a test could charge an amount Stripe would
refuse and never learn it. PaymentIntents and charges now refuse them with
``invalid_charge_amount``, as Stripe does; everything else (prices, invoices, their totals)
keeps full precision as at Stripe.
"""

from __future__ import annotations

from localstripe.resources import Charge, PaymentIntent, try_convert_to_int

from .routing import stripe_error

THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})
# The step a charge's amount must be a multiple of, where Stripe's rules require one.
CHARGE_STEP = {**dict.fromkeys(THREE_DECIMAL, 10), "isk": 100}


def check_charge_amount(amount, currency) -> None:
    amount = try_convert_to_int(amount)
    code = currency.lower() if isinstance(currency, str) else currency
    step = CHARGE_STEP.get(code)
    if step and type(amount) is int and amount % step:
        raise stripe_error(
            400,
            f"Amounts in {code.upper()} must be a multiple of {step} in the smallest currency "
            f"unit: {amount} cannot be charged.",
            code="invalid_charge_amount",
            param="amount",
        )


def _checking_amount(original):
    def init(self, amount=None, currency=None, *args, **kwargs):
        check_charge_amount(amount, currency)
        original(self, amount, currency, *args, **kwargs)

    return init


def install_currencies() -> None:
    """PaymentIntents and charges refuse an amount their currency cannot charge."""
    PaymentIntent.__init__ = _checking_amount(PaymentIntent.__init__)
    Charge.__init__ = _checking_amount(Charge.__init__)
