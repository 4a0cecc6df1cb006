"""The launcher and process hygiene: loopback only, nothing persisted, clear start errors."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import stripe

from stripe_emulator.launcher import EmulatorError, StripeEmulator

LOCALSTRIPE_PICKLE = Path("/tmp/localstripe.pickle")  # noqa: S108 - where localstripe pickles


def _stat_or_none(path: Path):
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


def test_writes_nothing_to_tmp(stripe_emulator, stripe_client):
    before = _stat_or_none(LOCALSTRIPE_PICKLE)

    customer = stripe_client.v1.customers.create(params={"email": "disk@example.com"})
    stripe_client.v1.customers.update(customer.id, params={"name": "Disk"})

    assert _stat_or_none(LOCALSTRIPE_PICKLE) == before


def test_data_does_not_survive_a_restart():
    with StripeEmulator().start() as first:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": first.url})
        customer_id = client.v1.customers.create(params={"email": "gone@example.com"}).id
    with StripeEmulator().start() as second:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": second.url})
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.customers.retrieve(customer_id)


def test_listens_on_127_0_0_1_only(stripe_emulator):
    port = int(stripe_emulator.url.rsplit(":", 1)[1])
    assert stripe_emulator.url == f"http://127.0.0.1:{port}"
    socket.create_connection(("127.0.0.1", port), timeout=1).close()

    # Another loopback address reaches a socket bound to 0.0.0.0, but not one bound to 127.0.0.1.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", port), timeout=1)
    with pytest.raises(OSError):
        socket.create_connection(("::1", port), timeout=1)


def test_serves_fake_stripe_js(stripe_emulator):
    assert stripe_emulator.js_url == stripe_emulator.url + "/js.stripe.com/v3/"
    with urllib.request.urlopen(stripe_emulator.js_url, timeout=5) as response:
        assert "confirmCardSetup" in response.read().decode()


def test_rejects_keys_that_are_not_secret_keys(stripe_emulator):
    client = stripe.StripeClient("pk_test_nope", base_addresses={"api": stripe_emulator.url})
    with pytest.raises(stripe.AuthenticationError):
        client.v1.customers.list()


def test_flush_forgets_every_account(stripe_emulator, stripe_client, connected_client):
    platform_customer = stripe_client.v1.customers.create(params={"email": "p@example.com"})
    tenant = connected_client("acct_flushtenant")
    tenant_customer = tenant.v1.customers.create(params={"email": "t@example.com"})

    stripe_emulator.flush()

    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.customers.retrieve(platform_customer.id)
    with pytest.raises(stripe.InvalidRequestError):
        tenant.v1.customers.retrieve(tenant_customer.id)


def test_starts_from_any_working_directory(tmp_path, monkeypatch):
    # The package lives in the checkout, not in site-packages: the caller's directory must not
    # decide whether the subprocess finds it (the demo and benchmarks start from elsewhere too).
    monkeypatch.chdir(tmp_path)
    with StripeEmulator().start() as emulator:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": emulator.url})
        assert client.v1.customers.create(params={"email": "cwd@example.com"}).id


def test_start_failure_is_reported_clearly(monkeypatch):
    emulator = StripeEmulator(startup_timeout=5)
    # A port we hold ourselves cannot be bound by the emulator.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(EmulatorError, match="exited with code") as failure:
            emulator.start(port=taken.getsockname()[1])
    assert "Address already in use" in str(failure.value)
    with pytest.raises(EmulatorError, match="not running"):
        _ = emulator.url


def test_register_webhook_rejects_bad_urls(stripe_emulator):
    with pytest.raises(EmulatorError, match="HTTP 400"):
        stripe_emulator.register_webhook("we_bad", "ftp://example.com", "whsec_x")
    with pytest.raises(EmulatorError, match="HTTP 404"):
        stripe_emulator.unregister_webhook("we_never_registered")


def test_python_dash_m_stripe_emulator_serves_on_the_given_port():
    project_root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "stripe_emulator", "--port", "0"],
        cwd=project_root,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        first_line = process.stdout.readline().strip()
        url = first_line.rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:")
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(url + "/_config/health", timeout=1) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "python -m stripe_emulator never answered"
                time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=5)
        process.stdout.close()
