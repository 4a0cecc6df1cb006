"""Builds the patched localstripe aiohttp application: patches, middlewares and routes."""

from __future__ import annotations

from aiohttp import web
from localstripe import resources
from localstripe import server as localstripe_server

from . import (
    account_settings,
    accounts,
    bank_debits,
    credentials,
    customer_balances,
    customers,
    faults,
    invoice_links,
    invoices,
    oauth,
    payment_method_types,
    renewals,
    stats,
    subscription_schedules,
    trial_ends,
    webhook_delivery,
    webhook_endpoints,
)
from .accounts import account_middleware, tag_events_with_account
from .authentication import install_authentication
from .authentication import stripe_js as stripe_js_with_next_action
from .bank_debits import install_bank_debits
from .collection_pauses import install_collection_pauses
from .currencies import install_currencies
from .customer_balances import install_customer_balances
from .customers import install_customers
from .faults import fault_middleware
from .invoice_collection import install_invoice_collection
from .invoice_links import install_invoice_links, link_origin_middleware
from .invoices import install_invoices
from .payment_method_types import install_payment_method_types
from .prices import install_prices
from .pricing_models import install_pricing_models
from .renewals import install_renewals
from .routing import Route, error_middleware, install_stripe_not_found
from .storage import install_account_store
from .subscription_schedules import install_subscription_schedules
from .subscription_updates import install_subscription_updates
from .subscriptions import install_subscriptions
from .trial_ends import install_trial_ends
from .webhook_delivery import dispatcher, install_webhook_delivery

# The resources localstripe serves with create / retrieve / update / delete / list routes.
CRUD_RESOURCES = (
    resources.BalanceTransaction,
    resources.Charge,
    resources.Coupon,
    resources.Customer,
    resources.Event,
    resources.Invoice,
    resources.InvoiceItem,
    resources.PaymentIntent,
    resources.PaymentMethod,
    resources.Payout,
    resources.Plan,
    resources.Product,
    resources.Refund,
    resources.SetupIntent,
    resources.Source,
    resources.Subscription,
    resources.SubscriptionItem,
    resources.TaxRate,
    resources.Token,
)

_price_resource: type | None = None


def apply_patches(webhook_delay: float = 0.0) -> type:
    """Apply every patch to localstripe once per process; returns the Price resource class."""
    global _price_resource
    if _price_resource is None:
        install_account_store()
        install_stripe_not_found()
        tag_events_with_account()
        install_webhook_delivery(webhook_delay)
        _price_resource = install_prices()
        install_subscriptions()
        install_invoice_collection()
        install_pricing_models()
        install_subscription_updates()
        install_collection_pauses()
        install_trial_ends()
        install_subscription_schedules()
        install_invoices()
        install_customers()
        install_customer_balances()
        install_bank_debits()
        install_currencies()
        install_payment_method_types()
        install_invoice_links()
        install_authentication()
        install_renewals()
    webhook_delivery.dispatcher.delay_seconds = webhook_delay
    return _price_resource


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_app(webhook_delay: float = 0.0) -> web.Application:
    """The emulator app: our routes first, so they win over localstripe's `{id}` patterns."""
    price = apply_patches(webhook_delay)
    app = web.Application(
        middlewares=[
            stats.stats_middleware,  # outermost: counts every API call, faulted ones too
            error_middleware,
            fault_middleware,
            credentials.credentials_middleware,  # issued keys; localstripe's check for the rest
            account_middleware,
            link_origin_middleware,
        ]
    )
    app.on_response_prepare.append(localstripe_server.add_cors_headers)
    app.on_cleanup.append(lambda _app: dispatcher.stop())

    own_routes: list[Route] = [
        *account_settings.ROUTES,
        *accounts.ROUTES,
        *bank_debits.ROUTES,
        *credentials.ROUTES,
        *customer_balances.ROUTES,
        *customers.ROUTES,
        *faults.ROUTES,
        *invoice_links.ROUTES,
        *invoices.ROUTES,
        *oauth.ROUTES,
        *payment_method_types.ROUTES,
        *renewals.ROUTES,
        *stats.ROUTES,
        *subscription_schedules.ROUTES,
        *trial_ends.ROUTES,
        *webhook_delivery.ROUTES,
        *webhook_endpoints.ROUTES,
        ("GET", "/_config/health", health),
        ("DELETE", "/_config/data", localstripe_server.flush_store),
        ("GET", "/js.stripe.com/v3/", stripe_js_with_next_action),
    ]
    taken = {(method, path) for method, path, _handler in own_routes}
    for method, path, handler in own_routes:
        app.router.add_route(method, path, handler)

    # localstripe captured bound methods at import time; look them up again so that the
    # class-level patches above are what its routes call.
    for method, path, func in resources.extra_apis:
        if (method, path) not in taken:
            current = getattr(func.__self__, func.__name__)
            app.router.add_route(method, path, localstripe_server.api_extra(current, path))

    for cls in (*CRUD_RESOURCES, price, subscription_schedules.SubscriptionSchedule):
        base = "/v1/" + cls.object + "s"
        for method, path, make_handler in (
            ("POST", base, localstripe_server.api_create),
            ("GET", base + "/{id}", localstripe_server.api_retrieve),
            ("POST", base + "/{id}", localstripe_server.api_update),
            ("DELETE", base + "/{id}", localstripe_server.api_delete),
            ("GET", base, localstripe_server.api_list_all),
        ):
            app.router.add_route(method, path, make_handler(cls, path))
    return app
