"""The urllib3 transport under our Stripe clients, against the emulator and a closed port."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import stripe

from tenants.stripe_http import StripeHTTPClient


def _client(base: str, http_client: StripeHTTPClient, retries: int = 0) -> stripe.StripeClient:
    return stripe.StripeClient(
        "sk_test_transport",
        base_addresses={"api": base},
        http_client=http_client,
        max_network_retries=retries,
    )


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens here once the probe is closed


def test_round_trip_through_the_emulator_is_counted(stripe_emulator):
    transport = StripeHTTPClient(timeout=10)
    client = _client(stripe_emulator.url, transport)

    made = client.v1.customers.create(params={"email": "transport@example.com"})
    fetched = client.v1.customers.retrieve(made.id)

    assert fetched.email == "transport@example.com"
    assert transport.requests_sent == 2


def test_stripe_errors_keep_their_type_and_headers(stripe_emulator):
    client = _client(stripe_emulator.url, StripeHTTPClient(timeout=10))

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.retrieve("cus_doesnotexist")

    assert raised.value.http_status == 404


def test_connection_refused_is_a_retryable_connection_error():
    transport = StripeHTTPClient(timeout=5)
    client = _client(f"http://127.0.0.1:{_closed_port()}", transport, retries=1)

    with pytest.raises(stripe.APIConnectionError) as raised:
        client.v1.customers.retrieve("cus_any")

    assert raised.value.should_retry is True
    assert "NewConnectionError" in str(raised.value)
    assert transport.requests_sent == 2  # stripe-python retried once, as told


def test_rate_limit_answers_are_passed_through_for_stripe_to_judge(stripe_emulator):
    stripe_emulator.add_fault("transport-429", status=429, path="/v1/customers", times=1)
    try:
        client = _client(stripe_emulator.url, StripeHTTPClient(timeout=10))
        with pytest.raises(stripe.RateLimitError):
            client.v1.customers.list()
    finally:
        stripe_emulator.remove_fault("transport-429")


def test_a_stalled_answer_ends_the_try_at_its_timeout():
    """A server that takes the request and never answers: the try gives up at its timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    stop = threading.Event()

    def stall() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            stop.wait(10)

    thread = threading.Thread(target=stall, daemon=True)
    thread.start()
    client = _client(f"http://127.0.0.1:{server.getsockname()[1]}", StripeHTTPClient(timeout=1))
    started = time.monotonic()
    try:
        with pytest.raises(stripe.APIConnectionError) as raised:
            client.v1.customers.retrieve("cus_slow")
    finally:
        stop.set()
        thread.join(5)
        server.close()
    assert time.monotonic() - started < 3
    assert "ReadTimeoutError" in str(raised.value)
