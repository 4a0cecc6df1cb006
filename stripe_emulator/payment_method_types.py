"""Payment methods beyond cards and SEPA debits, and legacy cards seen as payment methods.

localstripe knows two PaymentMethod types, ``card`` and ``sepa_debit``. Real merchants' customers
also pay by:

* ``us_bank_account`` (ACH Direct Debit): ``us_bank_account[account_number]``,
  ``[routing_number]``, ``[account_holder_type]``, ``[account_type]``; the method shows
  ``bank_name``, ``last4``, ``routing_number``, ``account_type`` and ``account_holder_type``
  (docs.stripe.com/api/payment_methods/object). Stripe's test routing number 110000000 is
  "STRIPE TEST BANK"; like a SEPA debit, it settles later (see bank_debits.py);
* ``link``: the method shows the customer's Link ``email``. Stripe makes these only in its
  own UI (Checkout, Elements); here ``type=link`` with ``billing_details[email]`` makes one;
* legacy cards (``card_...``, attached with ``POST /v1/customers/{id}/sources``): Stripe's
  PaymentMethods API serves them by id, shaped as a ``payment_method`` of type ``card``, and
  lists them with the customer's payment methods
  (docs.stripe.com/payments/payment-methods/transitioning#compatibility). localstripe
  answers the ``card`` object itself and leaves them out of the list.

Removing a source at Stripe sends ``customer.source.deleted``, and ``customer.updated`` when
the customer's ``default_source`` moved (localstripe sends neither).
"""

from __future__ import annotations

from localstripe import resources
from localstripe.resources import Card, Customer, Event, PaymentMethod, StripeObject

from .cards import card_brand
from .routing import Route, json_route, stripe_error

BANK_NAMES = {"110000000": "STRIPE TEST BANK"}  # Stripe's test routing number
HOLDER_TYPES = ("individual", "company")
ACCOUNT_TYPES = ("checking", "savings")
EXTRA_TYPES = ("us_bank_account", "link")
KNOWN_TYPES = ("card", "sepa_debit", *EXTRA_TYPES)


def _bad(message: str, param: str):
    return stripe_error(400, message, code="parameter_invalid", param=param)


def _us_bank_account(details) -> dict:
    if not isinstance(details, dict):
        raise _bad("us_bank_account is required for type us_bank_account", "us_bank_account")
    number, routing = details.get("account_number"), details.get("routing_number")
    if not (isinstance(number, str) and number.isdigit() and 4 <= len(number) <= 17):
        raise _bad("Invalid account number", "us_bank_account[account_number]")
    if not (isinstance(routing, str) and routing.isdigit() and len(routing) == 9):
        raise _bad("Invalid routing number", "us_bank_account[routing_number]")
    holder = details.get("account_holder_type", "individual")
    kind = details.get("account_type", "checking")
    if holder not in HOLDER_TYPES:
        raise _bad("Invalid account_holder_type", "us_bank_account[account_holder_type]")
    if kind not in ACCOUNT_TYPES:
        raise _bad("Invalid account_type", "us_bank_account[account_type]")
    return {
        "account_holder_type": holder,
        "account_type": kind,
        "bank_name": BANK_NAMES.get(routing, "TEST BANK"),
        "financial_connections_account": None,
        "fingerprint": resources.fingerprint(routing + number),
        "last4": number[-4:],
        "networks": {"preferred": "ach", "supported": ["ach"]},
        "routing_number": routing,
        "status_details": {},
    }


def _link(billing_details) -> dict:
    email = (billing_details or {}).get("email")
    if not isinstance(email, str) or "@" not in email:
        raise _bad("billing_details[email] is required for a Link method", "billing_details")
    return {"email": email, "persistent_token": None}


def _init_with_more_types(original):
    def init(self, type=None, billing_details=None, us_bank_account=None, **kwargs):
        if type not in EXTRA_TYPES:
            if type not in KNOWN_TYPES:
                raise _bad(f"Invalid payment method type: {type!r}", "type")
            if us_bank_account is not None:
                raise _bad("Received unknown parameter: us_bank_account", "us_bank_account")
            original(self, type=type, billing_details=billing_details, **kwargs)
            return
        metadata = kwargs.pop("metadata", None)
        if kwargs:
            raise _bad("Received unknown parameter: " + ", ".join(sorted(kwargs)), "type")
        details = _us_bank_account(us_bank_account) if type == "us_bank_account" else None
        link = _link(billing_details) if type == "link" else None
        StripeObject.__init__(self)  # all checks done: now it gets an id and is stored
        self.type = type
        self.billing_details = billing_details or {}
        if details is not None:
            self.us_bank_account = details
        if link is not None:
            self.link = link
        self.customer = None
        self.metadata = metadata or {}

    return init


class LegacyCardView:
    """A legacy card in a list of payment methods (lists export each item)."""

    def __init__(self, card: Card) -> None:
        self.card = card
        self.created = card.created

    def _export(self, expand=None) -> dict:
        return as_payment_method(self.card)


def as_payment_method(card: Card) -> dict:
    """A legacy card as the PaymentMethods API shows it."""
    return {
        "id": card.id,
        "object": "payment_method",
        "type": "card",
        "created": card.created,
        "customer": card.customer,
        "livemode": False,
        "metadata": card.metadata,
        "billing_details": {"name": card.name, "email": None, "phone": None, "address": None},
        "card": {
            "brand": card_brand(card._card_number),
            "country": card.country,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
            "fingerprint": card.fingerprint,
            "funding": card.funding,
            "last4": card.last4,
        },
    }


def retrieve_payment_method(id, **params):
    """GET /v1/payment_methods/{id}: legacy cards shaped as payment methods."""
    if id.startswith("card_"):
        return as_payment_method(Card._api_retrieve(id))
    return PaymentMethod._api_retrieve(id)


def legacy_cards_of(customer_id: str) -> list[LegacyCardView]:
    """The customer's cards attached as sources, to list beside its payment methods."""
    customer = resources.store.get(f"customer:{customer_id}")
    if customer is None:
        return []
    return [LegacyCardView(s) for s in customer.sources._list if isinstance(s, Card)]


def _remove_source_with_events(original):
    def remove(cls, id, source_id, **kwargs):
        source = cls._api_retrieve_source(id, source_id)
        default_before = cls._api_retrieve(id).default_source
        deleted = Event("customer.source.deleted", source)  # its last state, before it goes
        customer = original(cls, id, source_id, **kwargs)
        resources.schedule_webhook(deleted)
        if customer.default_source != default_before:
            resources.schedule_webhook(Event("customer.updated", customer))
        return customer

    return classmethod(remove)


def install_payment_method_types() -> None:
    """us_bank_account and link methods; source removal tells webhooks what changed."""
    PaymentMethod.__init__ = _init_with_more_types(PaymentMethod.__init__)
    Customer._api_remove_source = _remove_source_with_events(Customer._api_remove_source.__func__)


ROUTES: list[Route] = [("GET", "/v1/payment_methods/{id}", json_route(retrieve_payment_method))]
