"""Start and drive the local Stripe emulator (patched localstripe) from tests and scripts.

Run it by hand with ``python -m stripe_emulator [--port 8420] [--webhook-delay 0]``; it listens on
127.0.0.1 only and keeps everything in memory (nothing is written to /tmp or anywhere else).

From Python::

    with StripeEmulator().start() as emulator:          # port 0: any free port
        client = stripe.StripeClient("sk_test_emulator", base_addresses={"api": emulator.url})
        emulator.register_webhook("platform", "http://127.0.0.1:5000/stripe/webhook", "whsec_x")
        emulator.register_webhook("connect", "http://127.0.0.1:5000/stripe/connect", "whsec_y",
                                  connect=True)

What an app needs to know:

* Secret keys must look like ``sk_test_...`` (anything starting ``sk_`` is accepted);
  publishable keys ``pk_test_...`` are accepted where Stripe.js uses them.
* The fake Stripe.js is served at ``<url>/js.stripe.com/v3/``: load it instead of
  https://js.stripe.com/v3/ and ``stripe.confirmCardSetup(clientSecret, {payment_method:
  {card: cardElement}})`` confirms against the emulator (no iframe, plain inputs).
* ``Stripe-Account: acct_...`` selects a connected account's own data; without it requests
  use the platform's. Events from connected accounts carry ``account``.
* Webhook endpoints are registered with ``POST <url>/_config/webhooks/<id>`` (form fields
  ``url``, ``secret``, optional ``events[]``, optional ``connect=true``) and removed with
  ``DELETE`` on the same path; ``DELETE <url>/_config/data`` wipes all accounts' data.
* ``api_request_count()`` reads how many API calls the emulator has received (from every
  process), e.g. to prove a page view made none, and ``api_requests_per_second()`` the same
  counts second by second, to prove a rate budget held; see ``stats.py``.
* Lists expand as Stripe documents: ``expand[]=data.customer`` (the ``data.`` prefix, at most
  four levels counting ``data``) expands each listed object, e.g.
  ``data.invoice_settings.default_payment_method`` on ``/v1/customers``; localstripe's own export
  does this, tested in ``tests/emulator/test_list_expansion.py``.
* SEPA debits (Stripe's test IBANs) stay ``processing`` until the bank answers, after
  ``set_settlement_delay()`` seconds; see ``bank_debits.py``.
* ``add_fault()`` makes chosen API calls fail (an outage's 503, a 429 rate limit), for a
  number of calls or until ``remove_fault()``; see ``faults.py``.
* Merchants' own keys (``create_key()``: restricted keys with chosen permissions, or a secret
  key) act on their own account and are checked as Stripe checks them: expired, revoked,
  publishable, lacking a permission; see ``credentials.py``.
* Connect OAuth (``/oauth/authorize``, ``/oauth/token``, ``/oauth/deauthorize``) and Stripe Apps
  OAuth (``/oauth/v2/authorize``, ``/v1/oauth/token`` with expiring access tokens and one-use
  refresh tokens), each with an Allow/Deny page that seeds a new account; see ``oauth.py``.
* ``POST /v1/webhook_endpoints`` creates an endpoint on an account, which then receives that
  account's events; see ``webhook_endpoints.py``.
* Charges refuse amounts their currency cannot charge (a three-decimal amount not ending in 0,
  a fraction of an ISK); see ``currencies.py``.
* ``us_bank_account`` and ``link`` payment methods, and legacy ``card_`` sources served by the
  PaymentMethods API with ``customer.source.*`` events; see ``payment_method_types.py``.
* ``pause_collection`` on subscription updates; see ``collection_pauses.py``.
* 3-D Secure test cards ask for authentication as Stripe's do, on session (``off_session=false``
  on /pay) or off, and the served Stripe.js has ``handleNextAction``; see ``authentication.py``.
* ``hosted_invoice_url`` and ``invoice_pdf`` that expire as Stripe's do (a fresh read lasts at
  least 10 days), served by the emulator; ``advance_link_clock()`` ages them; see
  ``invoice_links.py``.
* Tiered, metered and sub-cent (``unit_amount_decimal``) prices, and items of quantity 0; see
  ``pricing_models.py``.
* ``trial_settings[end_behavior][missing_payment_method]`` (a trial ended with ``trial_end=now``
  and no payment method pauses or cancels) and ``POST /v1/subscriptions/{id}/resume``; see
  ``trial_ends.py``.
* Subscription schedules made ``from_subscription``: phases, ``/release``, ``/cancel``, and
  direct cancellation refused while a schedule manages the subscription; see
  ``subscription_schedules.py``.
* ``set_account_settings()`` gives an account the country and Dashboard timezone its Account
  object reports; see ``account_settings.py``.
* Customers' invoice ``balance`` and ``/v1/customers/{id}/balance_transactions`` (customer.updated
  on each); see ``customer_balances.py``.
* ``renew()`` renews an account's subscriptions as Stripe does when their period ends (new
  period, renewal invoice finalized and charged, Stripe's events in Stripe's order); see
  ``renewals.py``.
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from types import TracebackType

from .defaults import DEFAULT_SETTLEMENT_SECONDS  # noqa: F401  (launchers read it here)

HOST = "127.0.0.1"
DEFAULT_PORT = 8420
READY_LINE = re.compile(r"^Stripe emulator listening on (http://127\.0\.0\.1:\d+)$")
CHECKOUT = Path(__file__).resolve().parents[1]  # where `python -m stripe_emulator` finds us


class EmulatorError(RuntimeError):
    """The emulator did not start, or refused a configuration request."""


class StripeEmulator:
    """The patched localstripe running in a subprocess on 127.0.0.1."""

    def __init__(self, *, webhook_delay: float = 0.0, startup_timeout: float = 10.0) -> None:
        self.webhook_delay = webhook_delay
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[str] | None = None
        self._url: str | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=400)
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, port: int = 0) -> StripeEmulator:
        """Launch the emulator on `port` (0: a free one) and wait until it answers."""
        if self._process is not None:
            raise EmulatorError(f"Stripe emulator already running at {self._url}")
        self._ready.clear()
        self._output.clear()
        command = [
            sys.executable,
            "-m",
            "stripe_emulator",
            "--port",
            str(port),
            "--webhook-delay",
            str(self.webhook_delay),
        ]
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and package
            command,
            cwd=CHECKOUT,  # the package is not installed: it is found beside app/ in the checkout
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._reader = threading.Thread(target=self._read_output, daemon=True)
        self._reader.start()
        try:
            self._wait_until_answering(time.monotonic() + self.startup_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the subprocess (SIGTERM, then SIGKILL after 5 s)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process is not None and process.stdout is not None:
            if self._reader is not None:
                self._reader.join(timeout=5)
            process.stdout.close()
        self._url = None

    def __enter__(self) -> StripeEmulator:
        if self._process is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL for stripe-python's base_addresses["api"], e.g. http://127.0.0.1:8420."""
        if self._url is None:
            raise EmulatorError("Stripe emulator is not running; call start() first")
        return self._url

    @property
    def pid(self) -> int:
        """The emulator's process id (benchmarks read its CPU time)."""
        if self._process is None:
            raise EmulatorError("Stripe emulator is not running; call start() first")
        return self._process.pid

    @property
    def js_url(self) -> str:
        """The fake Stripe.js to load in pages instead of https://js.stripe.com/v3/."""
        return f"{self.url}/js.stripe.com/v3/"

    def log_tail(self, lines: int = 50) -> str:
        """The emulator's last output lines (access log, delivery log, tracebacks)."""
        return "\n".join(list(self._output)[-lines:])

    # -- configuration -----------------------------------------------------------------------

    def register_webhook(
        self,
        endpoint_id: str,
        url: str,
        secret: str,
        connect: bool = False,
        events: list[str] | None = None,
    ) -> None:
        """Deliver events to `url`, signed with `secret`.

        connect=False: only the platform's own events; connect=True: only events from
        connected accounts (Stripe-Account requests), which carry `account`. `events` limits
        the event types (None: all). Registering an existing id replaces it.
        """
        fields = [("url", url), ("secret", secret), ("connect", "true" if connect else "false")]
        fields += [("events[]", event_type) for event_type in events or []]
        if events is not None and not events:
            raise EmulatorError("events=[] would deliver nothing; pass None for all events")
        self._config_request("POST", f"/_config/webhooks/{endpoint_id}", fields)

    def unregister_webhook(self, endpoint_id: str) -> None:
        self._config_request("DELETE", f"/_config/webhooks/{endpoint_id}")

    def add_fault(
        self,
        fault_id: str,
        *,
        status: int,
        path: str = "/v1/",
        method: str | None = None,
        account: str | None = None,
        times: int | None = None,
    ) -> None:
        """Answer `status` to API calls whose path starts with `path` (and match `method` and
        the `account` of their Stripe-Account header, when given): `times` calls, or all of
        them until remove_fault(fault_id). Registering an existing id replaces it."""
        fields = [("status", str(status)), ("path", path)]
        fields += [("method", method)] if method else []
        fields += [("account", account)] if account else []
        fields += [("times", str(times))] if times else []
        self._config_request("POST", f"/_config/faults/{fault_id}", fields)

    def set_account_settings(
        self, account: str, *, country: str | None = None, timezone: str | None = None
    ) -> None:
        """What an account's owner set in the Dashboard: its country and timezone, reported on
        the Account object; see account_settings.py."""
        fields = [("country", country)] if country else []
        fields += [("timezone", timezone)] if timezone else []
        self._config_request("POST", f"/_config/accounts/{account}", fields)

    def remove_fault(self, fault_id: str) -> None:
        self._config_request("DELETE", f"/_config/faults/{fault_id}")

    def set_settlement_delay(self, seconds: float) -> None:
        """How long banks take to answer a SEPA debit (0: before the pay call answers);
        see bank_debits.py. The emulator starts with DEFAULT_SETTLEMENT_SECONDS."""
        self._config_request("POST", "/_config/settlement", [("seconds", str(seconds))])

    def advance_link_clock(self, seconds: float) -> None:
        """Let `seconds` pass for invoice links (only): a link stored earlier may expire."""
        self._config_request("POST", "/_config/clock", [("advance_seconds", str(seconds))])

    def renew(self, account: str | None, subscriptions: list[str] | None = None) -> dict:
        """Renew the account's active and past-due subscriptions (or only `subscriptions`) as at
        the end of their period: {"renewed": [...], "canceled": [...], "events": n}."""
        fields = [("account", account)] if account else []
        fields += [("subscription[]", id) for id in subscriptions or []]
        return self._config_request("POST", "/_config/renew", fields, timeout=300)

    def api_request_count(self, account: str | None = None) -> int:
        """API (/v1/) requests received so far, from any process: all of them, or only those
        sent with `Stripe-Account: <account>`. Read it before and after the work to measure."""
        with urllib.request.urlopen(f"{self.url}/_config/stats", timeout=10) as response:  # noqa: S310
            stats = json.load(response)
        return stats["api_requests"] if account is None else stats["by_account"].get(account, 0)

    def api_requests_per_second(self, account: str = "platform") -> dict[int, int]:
        """{unix second: API requests received in it} for one account (see stats.py)."""
        query = urllib.parse.urlencode({"account": account})
        url = f"{self.url}/_config/stats/per_second?{query}"
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
            counts = json.load(response)["per_second"]
        return {int(second): n for second, n in counts.items()}

    def create_key(
        self,
        account: str,
        permissions: list[str] | None = None,
        *,
        mode: str = "test",
        kind: str = "restricted",
    ) -> str:
        """Issue a key of `account` (see credentials.py): a restricted key with `permissions`
        (``customer_read``, ``invoice_write`` ...), or kind="secret" for a full secret key."""
        fields = [("account", account), ("mode", mode), ("kind", kind)]
        fields += [("permissions[]", name) for name in permissions or []]
        return self._config_request("POST", "/_config/keys", fields)["key"]

    def expire_key(self, key: str) -> None:
        """The key (an OAuth access token, say) answers api_key_expired from now on."""
        self._config_request("POST", "/_config/keys/expire", [("key", key)])

    def set_access_token_seconds(self, seconds: float) -> None:
        """How long OAuth access tokens issued from now on live (Stripe: 3600)."""
        self._config_request("POST", "/_config/oauth", [("access_token_seconds", str(seconds))])

    def answer_garbage(self, times: int = 1) -> None:
        """The next `times` OAuth token answers are an HTML page with status 200."""
        self._config_request("POST", "/_config/oauth", [("garbage_answers", str(times))])

    def merchant_deauthorizes(self, account: str) -> None:
        """The merchant removes the app / disconnects the platform in their own Dashboard."""
        self._config_request("POST", "/_config/oauth/deauthorize", [("account", account)])

    def flush(self) -> None:
        """Forget every object of every account (webhook endpoints stay registered)."""
        self._config_request("DELETE", "/_config/data")

    # -- internals ---------------------------------------------------------------------------

    def _config_request(
        self, method: str, path: str, fields: list | None = None, timeout: float = 10
    ):
        """Send a configuration request; its JSON answer, if it has one."""
        data = urllib.parse.urlencode(fields).encode() if fields is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                body = response.read()
                if response.headers.get_content_type() == "application/json":
                    return json.loads(body)
                return None
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")
            raise EmulatorError(f"{method} {path} failed: HTTP {error.code} {detail}") from None

    def _read_output(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            line = line.rstrip("\n")
            self._output.append(line)
            match = READY_LINE.match(line)
            if match and not self._ready.is_set():
                self._url = match.group(1)
                self._ready.set()

    def _wait_until_answering(self, deadline: float) -> None:
        assert self._process is not None
        while not self._ready.wait(timeout=0.05):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self._fail("did not report its address")
        while True:
            try:
                with urllib.request.urlopen(f"{self._url}/_config/health", timeout=1):  # noqa: S310
                    return
            except OSError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self._fail("did not answer on /_config/health")
                time.sleep(0.05)

    def _fail(self, what: str) -> None:
        exit_code = self._process.poll() if self._process else None
        if exit_code is not None and self._reader is not None:
            self._reader.join(timeout=2)  # so the log tail has the process's last words
        state = f"exited with code {exit_code}" if exit_code is not None else "still starting"
        raise EmulatorError(
            f"Stripe emulator {what} within {self.startup_timeout:.0f} s ({state}).\n"
            f"Its output:\n{self.log_tail()}"
        )


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m stripe_emulator``: serve the patched localstripe on 127.0.0.1."""
    parser = argparse.ArgumentParser(
        prog="python -m stripe_emulator", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument(
        "--webhook-delay",
        type=float,
        default=float(os.environ.get("STRIPE_EMULATOR_WEBHOOK_DELAY", "0")),
        help="seconds to wait before each webhook delivery (default 0)",
    )
    args = parser.parse_args(argv)

    from aiohttp import web

    from .server import build_app

    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    app = build_app(webhook_delay=args.webhook_delay)
    # Bind ourselves: loopback only, and the real port is known even when 0 was asked for.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, args.port))
    port = sock.getsockname()[1]
    print(f"Stripe emulator listening on http://{HOST}:{port}", flush=True)
    web.run_app(app, sock=sock, print=None, access_log=logging.getLogger("aiohttp.access"))
