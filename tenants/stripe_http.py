"""The HTTP transport under every Stripe client: urllib3 connection pools, counted requests.

stripe-python's default transport is `requests`, which spends more CPU per call than the call's
own work on the worker (about 0.5 ms of 1.2 ms measured per re-fetch; urllib3 alone, which
`requests` wraps anyway, needs about a third of it). At one re-fetch per webhook, that is the
worker's largest cost outside the database. This client keeps what matters of stripe's own
RequestsClient: kept-alive connections, certificate checks against Stripe's CA bundle, a
proxy from the environment, and the same retry verdicts (timeouts and connection errors are
retried by stripe-python, certificate errors never).
"""

from __future__ import annotations

import textwrap
import threading
import urllib.request
from collections.abc import Callable, Mapping
from typing import NoReturn

import stripe
import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)

from app.metrics import STRIPE_REQUESTS, stripe_outcome

POOL_SIZE = 16  # kept-alive connections per host: one per concurrent caller is enough

_RETRYABLE = (ConnectTimeoutError, ReadTimeoutError, NewConnectionError, ProtocolError, ProxyError)


class StripeHTTPClient(stripe.HTTPClient):
    """A thread-safe stripe.HTTPClient on urllib3 that counts each request it sends."""

    name = "urllib3"

    def __init__(self, timeout: float | Callable[[], float], verify_ssl_certs: bool = True) -> None:
        """`timeout`: seconds per try, connecting and reading together (or a function giving
        them at each call: a web request can afford less than a background task)."""
        super().__init__(verify_ssl_certs=verify_ssl_certs)
        self._timeout_seconds = timeout if callable(timeout) else (lambda: timeout)
        self._lock = threading.Lock()
        self.requests_sent = 0
        options = {
            "maxsize": POOL_SIZE,
            "retries": False,  # stripe-python decides about retries, with its own backoff
            "cert_reqs": "CERT_REQUIRED" if verify_ssl_certs else "CERT_NONE",
            "ca_certs": stripe.ca_bundle_path if verify_ssl_certs else None,
        }
        self._direct = urllib3.PoolManager(**options)
        proxies = urllib.request.getproxies()  # HTTPS_PROXY and friends, as requests honours
        self._proxied = {
            scheme: urllib3.ProxyManager(proxies[scheme], **options)
            for scheme in ("http", "https")
            if proxies.get(scheme)
        }

    def request(self, method, url, headers, post_data=None):
        response = self._send(method, url, headers, post_data, stream=False)
        return response.data, response.status, response.headers

    def request_stream(self, method, url, headers, post_data=None):
        response = self._send(method, url, headers, post_data, stream=True)
        return response, response.status, response.headers

    def _send(self, method: str, url: str, headers: Mapping[str, str] | None, body, stream: bool):
        with self._lock:
            self.requests_sent += 1
        try:
            response = self._pool_for(url).request(
                method.upper(),
                url,
                headers=dict(headers or {}),
                body=body,
                timeout=_timeout(self._timeout_seconds()),
                preload_content=not stream,
                redirect=False,
            )
        except (HTTPError, OSError, ValueError) as exc:  # the network's failures: Stripe's type
            # Anything else (a task's soft time limit, say) is not a network error: let it be.
            STRIPE_REQUESTS.labels(stripe_outcome(None)).inc()
            _raise_connection_error(exc)
        STRIPE_REQUESTS.labels(stripe_outcome(response.status)).inc()
        return response

    def _pool_for(self, url: str) -> urllib3.PoolManager:
        if not self._proxied:
            return self._direct
        parts = urllib3.util.parse_url(url)
        proxied = self._proxied.get(parts.scheme or "https")
        if proxied is None or urllib.request.proxy_bypass(parts.host or ""):
            return self._direct
        return proxied

    def close(self) -> None:
        for pool in (self._direct, *self._proxied.values()):
            pool.clear()


def _timeout(seconds: float) -> urllib3.Timeout:
    # `total` bounds connecting and waiting for the answer together (the read timeout is what
    # connecting left of it). Each read waits at most that long; a server trickling bytes could
    # stretch a try further, which is not how Stripe fails.
    return urllib3.Timeout(total=seconds, connect=min(seconds / 2, 10.0))


def _raise_connection_error(exc: Exception) -> NoReturn:
    if isinstance(exc, SSLError):
        message, retry = "Could not verify Stripe's SSL certificate.", False
    elif isinstance(exc, _RETRYABLE):
        message, retry = "Unexpected error communicating with Stripe.", True
    elif isinstance(exc, HTTPError):
        message, retry = "Unexpected error communicating with Stripe.", False
    else:
        message, retry = "Unexpected error communicating with Stripe (configuration?).", False
    detail = f"{type(exc).__name__}: {exc}"
    raise stripe.APIConnectionError(
        textwrap.fill(message) + f"\n\n(Network error: {detail})", should_retry=retry
    ) from exc
