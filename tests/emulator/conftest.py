"""Fixtures for the Stripe emulator tests: one emulator subprocess per session, real HTTP."""

from __future__ import annotations

import http.server
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import stripe

from stripe_emulator.launcher import StripeEmulator

SECRET_KEY = "sk_test_emulator"
TEST_CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}


def make_client(emulator: StripeEmulator, account: str | None = None) -> stripe.StripeClient:
    return stripe.StripeClient(
        SECRET_KEY,
        stripe_account=account,
        base_addresses={"api": emulator.url},
        max_network_retries=0,
    )


@pytest.fixture
def stripe_client(stripe_emulator: StripeEmulator) -> stripe.StripeClient:
    """A StripeClient on the platform's own namespace."""
    return make_client(stripe_emulator)


@pytest.fixture
def connected_client(stripe_emulator: StripeEmulator) -> Callable[[str], stripe.StripeClient]:
    """Factory: a StripeClient sending `Stripe-Account: <account>`."""
    return lambda account: make_client(stripe_emulator, account)


@pytest.fixture
def new_account_id() -> Callable[[], str]:
    """Fresh connected-account ids, so tests never share a namespace."""
    return lambda: "acct_" + uuid.uuid4().hex[:16]


@pytest.fixture
def paying_customer() -> Callable[..., tuple]:
    """Factory: (customer, payment_method) with the card attached and set as default."""

    def make(client: stripe.StripeClient, email: str = "ada@example.com", card=TEST_CARD):
        customer = client.v1.customers.create(params={"email": email})
        method = client.v1.payment_methods.create(params={"type": "card", "card": dict(card)})
        client.v1.payment_methods.attach(method.id, params={"customer": customer.id})
        client.v1.customers.update(
            customer.id, params={"invoice_settings": {"default_payment_method": method.id}}
        )
        return customer, method

    return make


@pytest.fixture
def monthly_price() -> Callable[..., object]:
    """Factory: a recurring price (with its own product) in `client`'s namespace."""

    def make(client: stripe.StripeClient, unit_amount: int = 1500, interval: str = "month"):
        return client.v1.prices.create(
            params={
                "currency": "usd",
                "unit_amount": unit_amount,
                "recurring": {"interval": interval},
                "product_data": {"name": f"Plan {unit_amount}"},
            }
        )

    return make


class WebhookReceiver:
    """A local HTTP endpoint recording (Stripe-Signature, body) of each delivery."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[str, bytes]] = []
        self.endpoint_id: str | None = None  # set once registered with the emulator
        self._arrived = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._arrived:
                    receiver.deliveries.append((self.headers["Stripe-Signature"], body))
                    receiver._arrived.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def events(self, secret: str) -> list[stripe.Event]:
        """Every delivery so far, verified with stripe.Webhook.construct_event."""
        with self._arrived:
            deliveries = list(self.deliveries)
        return [stripe.Webhook.construct_event(body, sig, secret) for sig, body in deliveries]

    def wait_for(
        self, secret: str, match: Callable[[stripe.Event], bool], timeout: float = 5.0
    ) -> stripe.Event:
        """The first verified event matching `match`, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            found = [event for event in self.events(secret) if match(event)]
            if found:
                return found[0]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [(e.type, e.to_dict().get("account")) for e in self.events(secret)]
                raise AssertionError(f"no matching webhook within {timeout} s; got {seen}")
            with self._arrived:
                self._arrived.wait(timeout=min(remaining, 0.2))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


@pytest.fixture
def webhook_endpoint(stripe_emulator: StripeEmulator) -> Iterator[Callable[..., WebhookReceiver]]:
    """Factory: a receiver registered with the emulator (unregistered after the test)."""
    receivers: list[WebhookReceiver] = []

    def register(secret: str, connect: bool = False, events=None) -> WebhookReceiver:
        receiver = WebhookReceiver()
        receiver.endpoint_id = "we_" + uuid.uuid4().hex[:12]
        stripe_emulator.register_webhook(
            receiver.endpoint_id, receiver.url, secret, connect=connect, events=events
        )
        receivers.append(receiver)
        return receiver

    yield register
    for receiver in receivers:
        if receiver.endpoint_id is not None:
            stripe_emulator.unregister_webhook(receiver.endpoint_id)
        receiver.close()


def event_payloads(client: stripe.StripeClient, event_type: str, object_id: str) -> list[dict]:
    """Events of `event_type` about `object_id`, newest first, as plain dicts."""
    listed = client.v1.events.list(params={"type": event_type, "limit": 100})
    events = [event.to_dict() for event in listed.data]
    return [event for event in events if event["data"]["object"]["id"] == object_id]


@pytest.fixture
def events_about() -> Callable[[stripe.StripeClient, str, str], list[dict]]:
    return event_payloads
