"""A customer's invoice balance and its ledger of balance transactions.

docs.stripe.com/billing/customer/balance and docs.stripe.com/api/customer_balance_transactions:
each customer has a ``balance`` (negative: a credit owed to the customer; positive: a debit)
applied to the next invoice at finalization. ``POST /v1/customers/{id}/balance_transactions``
(``amount``, ``currency``, optional ``description`` and ``metadata``) adds to it and returns a
``customer_balance_transaction`` with its ``ending_balance``; the customer's balance changes,
so Stripe sends customer.updated with the previous balance. ``GET`` lists the ledger, newest
first.

localstripe keeps a legacy ``account_balance`` (the opposite sign) that its invoices and
previews already subtract, but had no ``balance`` field and no ledger.
"""

from __future__ import annotations

import time

from localstripe import resources
from localstripe.resources import Customer, Event, try_convert_to_int

from .routing import json_route, stripe_error

_LEDGER_KEY = "_ledger:customer_balance:"  # no object type starts so


def _bad(message: str):
    return stripe_error(400, message, code="parameter_invalid")


def _balance(self) -> int:
    return -(self.account_balance or 0)


def _ledger(customer_id: str) -> list[dict]:
    return resources.store.setdefault(_LEDGER_KEY + customer_id, [])


def create_balance_transaction(id, amount=None, currency=None, description=None, metadata=None):
    customer = Customer._api_retrieve(id)
    amount = try_convert_to_int(amount)
    if type(amount) is not int or amount == 0:
        raise _bad("amount must be a non-zero integer")
    if not isinstance(currency, str) or not currency:
        raise _bad("currency is required")
    before = customer.balance
    customer.account_balance = -(before + amount)
    transaction = {
        "id": "cbtxn_" + resources.random_id(24),
        "object": "customer_balance_transaction",
        "amount": amount,
        "created": int(time.time()),
        "credit_note": None,
        "currency": currency.lower(),
        "customer": customer.id,
        "description": description,
        "ending_balance": customer.balance,
        "invoice": None,
        "livemode": False,
        "metadata": metadata or {},
        "type": "adjustment",
    }
    _ledger(customer.id).insert(0, transaction)
    updated = Event("customer.updated", customer)
    updated.data["previous_attributes"] = {"balance": before}
    resources.schedule_webhook(updated)
    return transaction


def list_balance_transactions(id, limit=None, **params):
    Customer._api_retrieve(id)  # 404 if unknown
    ledger = _ledger(id)
    limit = try_convert_to_int(limit) or 10
    return {
        "object": "list",
        "url": f"/v1/customers/{id}/balance_transactions",
        "data": ledger[:limit],
        "has_more": len(ledger) > limit,
    }


ROUTES = [
    ("POST", "/v1/customers/{id}/balance_transactions", json_route(create_balance_transaction)),
    ("GET", "/v1/customers/{id}/balance_transactions", json_route(list_balance_transactions)),
]


def install_customer_balances() -> None:
    """Customers show `balance`; balance transactions add to it."""
    Customer.balance = property(_balance)
