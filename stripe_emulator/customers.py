"""Customers: search, payment-method listing, and SetupIntents that attach their card."""

from __future__ import annotations

import re

from localstripe import resources
from localstripe.resources import (
    Customer,
    Event,
    List,
    PaymentMethod,
    SetupIntent,
    try_convert_to_bool,
    try_convert_to_int,
)

from .cards import card_brand
from .payment_method_types import legacy_cards_of
from .routing import Route, json_route, stripe_error

# One search clause: email:'a@b.c', name~"Ada", metadata['plan']:'pro'
_CLAUSE = re.compile(
    r"""\s*(?P<field>metadata\[(?:'(?P<key1>[^']+)'|"(?P<key2>[^"]+)")\]|email|name|phone)"""
    r"""\s*(?P<op>[:~])\s*(?:'(?P<value1>[^']*)'|"(?P<value2>[^"]*)")\s*"""
)
SEARCH_MAX_LIMIT = 100
SETUP_CONFIRM_IGNORED_PARAMS = {"return_url", "mandate_data", "payment_method_options"}


def _bad(message: str):
    return stripe_error(400, message, code="parameter_invalid")


def _customer_matcher(query: str):
    """A predicate for Stripe's search syntax: clauses joined by AND (OR is not emulated)."""
    tests = []
    for clause in re.split(r"\s+AND\s+", query.strip()):
        match = _CLAUSE.fullmatch(clause)
        if match is None:
            raise _bad(f"Unsupported search query clause: {clause!r} (try email:'...')")
        field, op = match["field"], match["op"]
        wanted = (match["value1"] if match["value1"] is not None else match["value2"]).lower()
        key = match["key1"] or match["key2"]
        if key is not None:
            tests.append(
                lambda c, key=key, wanted=wanted: (c.metadata or {}).get(key, "").lower() == wanted
            )
        elif op == "~":
            tests.append(lambda c, f=field, wanted=wanted: wanted in (getattr(c, f) or "").lower())
        else:
            tests.append(lambda c, f=field, wanted=wanted: (getattr(c, f) or "").lower() == wanted)
    return lambda customer: all(test(customer) for test in tests)


def search_customers(query=None, limit=None, page=None, **params):
    """GET /v1/customers/search: email / name / phone / metadata, case-insensitive."""
    if not isinstance(query, str) or not query.strip():
        raise _bad("query is required")
    limit = try_convert_to_int(limit if limit is not None else 10)
    if type(limit) is not int or not 1 <= limit <= SEARCH_MAX_LIMIT:
        raise _bad(f"limit must be between 1 and {SEARCH_MAX_LIMIT}")
    offset = try_convert_to_int(page or 0)
    if type(offset) is not int or offset < 0:
        raise _bad("page must be a next_page value from a previous search")
    matches = _customer_matcher(query)
    found = [obj for obj in resources.store.objects_of("customer") if matches(obj)]
    found.sort(key=lambda customer: (customer.created, customer.id), reverse=True)
    page_items = found[offset : offset + limit]
    has_more = len(found) > offset + limit
    return {
        "object": "search_result",
        "url": "/v1/customers/search",
        "data": [customer._export() for customer in page_items],
        "has_more": has_more,
        "next_page": str(offset + limit) if has_more else None,
    }


def list_customer_payment_methods(id, type=None, limit=None, starting_after=None, **params):
    """GET /v1/customers/{id}/payment_methods[?type=card]."""
    Customer._api_retrieve(id)  # 404 if it does not exist
    methods = List(
        f"/v1/customers/{id}/payment_methods", limit=limit, starting_after=starting_after
    )
    methods._list = [
        obj
        for obj in resources.store.objects_of("payment_method")
        if obj.customer == id and (type is None or obj.type == type)
    ]
    if type in (None, "card"):  # legacy cards are listed as payment methods of type card
        methods._list += legacy_cards_of(id)
    methods._list.sort(key=lambda method: method.created, reverse=True)
    return methods


def retrieve_customer_payment_method(id, payment_method, **params):
    """GET /v1/customers/{id}/payment_methods/{payment_method}."""
    Customer._api_retrieve(id)
    method = PaymentMethod._api_retrieve(payment_method)
    if method.customer != id:
        raise stripe_error(
            404, f"No such PaymentMethod: '{payment_method}'", code="resource_missing"
        )
    return method


def _attach_emitting(original):
    def attach(cls, id, customer=None, **params):
        method = original(id, customer=customer, **params)
        resources.schedule_webhook(Event("payment_method.attached", method))
        return method

    return classmethod(attach)


def _detach_clearing_default(original):
    def detach(cls, id, **params):
        owner = PaymentMethod._api_retrieve(id).customer
        method = original(id, **params)
        customer = resources.store.get(f"customer:{owner}") if owner else None
        if customer and customer.invoice_settings.get("default_payment_method") == id:
            customer.invoice_settings["default_payment_method"] = None
        resources.schedule_webhook(Event("payment_method.detached", method))
        return method

    return classmethod(detach)


def _confirm_attaching(original):
    def confirm(cls, id, **params):
        for name in SETUP_CONFIRM_IGNORED_PARAMS:
            params.pop(name, None)
        was_succeeded = cls._api_retrieve(id).status == "succeeded"
        intent = original(id, **params)
        if intent.status != "succeeded" or was_succeeded:
            return intent
        method = PaymentMethod._api_retrieve(intent.payment_method)
        if intent.customer and method.customer is None:
            PaymentMethod._api_attach(method.id, customer=intent.customer)
        resources.schedule_webhook(Event("setup_intent.succeeded", intent))
        return intent

    return classmethod(confirm)


def _create_accepting_payment_method(original):
    def create(cls, payment_method=None, confirm=None, automatic_payment_methods=None, **data):
        data.pop("return_url", None)
        intent = original(**data)
        if payment_method is not None:
            intent.payment_method = PaymentMethod._api_retrieve(payment_method).id
            intent.status = "requires_confirmation"
        if try_convert_to_bool(confirm) is True:
            intent = cls._api_confirm(intent.id, payment_method=payment_method)
        return intent

    return classmethod(create)


def _init_with_brand(original_init):
    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        if getattr(self, "type", None) == "card" and getattr(self, "_card_number", None):
            self.card["brand"] = card_brand(self._card_number)

    return init


def install_customers() -> None:
    """Customer search, /customers/{id}/payment_methods, SetupIntent attach.

    localstripe has no search or per-customer payment-method routes, and a confirmed
    SetupIntent leaves its PaymentMethod unattached, so the customer never gets the card.
    Confirmation (server-side or from the fake Stripe.js) now attaches the card to the
    SetupIntent's customer and emits setup_intent.succeeded and payment_method.attached.
    """
    PaymentMethod._api_attach = _attach_emitting(PaymentMethod._api_attach)
    PaymentMethod._api_detach = _detach_clearing_default(PaymentMethod._api_detach)
    SetupIntent._api_confirm = _confirm_attaching(SetupIntent._api_confirm)
    SetupIntent._api_create = _create_accepting_payment_method(SetupIntent._api_create)
    # localstripe calls every card "visa"; the brand now follows the number.
    PaymentMethod.__init__ = _init_with_brand(PaymentMethod.__init__)


ROUTES: list[Route] = [
    ("GET", "/v1/customers/search", json_route(search_customers)),
    ("GET", "/v1/customers/{id}/payment_methods", json_route(list_customer_payment_methods)),
    (
        "GET",
        "/v1/customers/{id}/payment_methods/{payment_method}",
        json_route(retrieve_customer_payment_method),
    ),
]
