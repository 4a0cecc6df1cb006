"""3-D Secure on invoice payments: which test cards ask, on session or off, and Stripe.js's
``handleNextAction``.

Stripe's test cards (docs.stripe.com/testing, "Authentication and setup"): 4000 0027 6000 3184
always asks for authentication; 4000 0025 0000 3155 asks unless it was set up for future
payments, and then only when the customer is present (on-session payments always ask). An
invoice's pay call is off-session unless ``off_session=false``
(docs.stripe.com/api/invoices/pay#pay_invoice-off_session). When the bank asks, the invoice's
PaymentIntent waits in ``requires_action`` and /pay answers 402
``invoice_payment_intent_requires_action`` (see invoices.py); the customer completes it with
Stripe.js ``handleNextAction({clientSecret})`` (docs.stripe.com/js/payment_intents/
handle_next_action).

localstripe asks for authentication on every payment with these cards, ignores off_session,
and its Stripe.js has no ``handleNextAction``: the script served here adds it, showing the
emulator's own authentication step (Complete / Fail authentication).
"""

from __future__ import annotations

import contextvars
import os

from aiohttp import web
from localstripe import server as localstripe_server
from localstripe.resources import PaymentMethod, SetupIntent, try_convert_to_bool

ALWAYS_ASKS = "4000002760003184"
ASKS_UNLESS_SET_UP = "4000002500003155"

# Whether the customer is present for the payment being made (the pay call's off_session).
on_session: contextvars.ContextVar[bool] = contextvars.ContextVar("on_session", default=False)


def paying_on_session(off_session) -> contextvars.Token:
    """Mark the payment made in this request as on-session when off_session is false."""
    return on_session.set(try_convert_to_bool(off_session) is False)


def _requires_authentication(original):
    def requires(self):
        number = getattr(self, "_card_number", None) if self.type == "card" else None
        if number == ASKS_UNLESS_SET_UP:
            return on_session.get() or not getattr(self, "_set_up_for_later", False)
        return original(self)

    return requires


def _remember_set_up(original):
    """A card a SetupIntent confirmed (after any authentication) is set up for later."""

    def attach(self, pm):
        original(self, pm)
        if self.status == "succeeded":
            pm._set_up_for_later = True

    return attach


def _remember_set_up_after_authentication(original):
    def confirm(cls, id, **params):
        intent = original(id, **params)
        if intent.status == "succeeded" and intent.payment_method:
            PaymentMethod._api_retrieve(intent.payment_method)._set_up_for_later = True
        return intent

    return classmethod(confirm)


# Stripe.js's handleNextAction, on top of localstripe's confirmCardPayment (which shows the
# emulator's authentication step); a failed authentication is an error, as in Stripe.js.
HANDLE_NEXT_ACTION = """
;(function () {
  const localStripe = Stripe;
  Stripe = function (key, options) {
    const stripe = localStripe(key, options);
    stripe.handleNextAction = async function (options) {
      const result = await stripe.confirmCardPayment(options.clientSecret);
      if (result.error || !result.paymentIntent) return result;
      if (result.paymentIntent.status === 'requires_payment_method') {
        return {error: {type: 'card_error', code: 'payment_intent_authentication_failure',
          message: 'We are unable to authenticate your payment method. Please choose a ' +
                   'different payment method and try again.',
          payment_intent: result.paymentIntent}};
      }
      return result;
    };
    return stripe;
  };
})();
"""


async def stripe_js(request: web.Request) -> web.Response:
    path = os.path.join(os.path.dirname(localstripe_server.__file__), "localstripe-v3.js")
    with open(path) as script:
        text = script.read() + HANDLE_NEXT_ACTION
    return web.Response(text=text, content_type="application/javascript")


def install_authentication() -> None:
    PaymentMethod._requires_authentication = _requires_authentication(
        PaymentMethod._requires_authentication
    )
    SetupIntent._attach_pm = _remember_set_up(SetupIntent._attach_pm)
    SetupIntent._api_confirm = _remember_set_up_after_authentication(SetupIntent._api_confirm)
