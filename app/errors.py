"""Plain, finished error pages for every failure a person can meet; never a stack trace."""

from __future__ import annotations

import logging
import math
import time
from contextlib import suppress

from flask import Flask, g, render_template, request
from flask_limiter import RateLimitExceeded
from flask_login import current_user
from kombu.exceptions import OperationalError as BrokerUnavailable
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.auth import user_kind
from app.extensions import db, limiter

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Bad request", "We could not understand that request."),
    403: ("Not allowed", "You do not have access to this page."),
    404: ("Page not found", "There is nothing at this address."),
    405: ("Not allowed", "That action is not available here."),
    413: ("Too large", "That request is larger than we accept."),
    429: ("Slow down", "Too many attempts in a short time. Please wait a while and try again."),
    500: ("Something went wrong", "An unexpected error happened on our side. Please try again."),
    503: (
        "Temporarily unavailable",
        "We cannot reach a service we depend on. Please try again in a minute.",
    ),
}


def render_error(status: int, description: str | None = None, text: str | None = None):
    title, default_text = MESSAGES.get(status, MESSAGES[500])
    # Our own messages for 400/403/404; a 429 gets friendly text, never limiter jargon.
    text = text or (description if description and status in (404, 400, 403) else default_text)
    if status == 400 and description and "CSRF" in description:
        text = "This form has expired. Go back, reload the page and try again."
    tenant = g.get("tenant")
    # A 5xx may come from the database the user is read from, so it never asks who is signed in.
    signed_in_at_all = status < 500 and current_user.is_authenticated
    kind = user_kind(current_user.get_id()) if signed_in_at_all else ""
    # A signed-in customer keeps the portal's navigation; everyone signed in is sent back to
    # their own start page, not to the front page (a portal user is one on a tenant's host only).
    signed_in = tenant is not None and kind == "portal"
    back = BACK_HOME.get(kind) if signed_in or tenant is None else None
    return render_template(
        "errors/error.html",
        status=status,
        title=title,
        text=text,
        tenant=tenant,
        back=back,
        layout="portal/_signed_in.html" if signed_in else "base.html",
    )


# Where a signed-in user goes back to from an error page, by kind: (label, endpoint).
BACK_HOME = {
    "portal": ("Back to your account", "portal.account"),
    "merchant": ("Back to your dashboard", "merchant.home"),
    "operator": ("Back to the console", "console.home"),
}


def wait_phrase(seconds: int) -> str:
    """'in 40 seconds', 'in 7 minutes', 'in an hour': rounded up, never sooner than true."""
    if seconds < 60:
        return f"in {seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return "in a minute" if minutes == 1 else f"in {minutes} minutes"
    hours = math.ceil(seconds / 3600)
    return "in an hour" if hours == 1 else f"in {hours} hours"


def _too_many_requests():
    """The 429 page says when to try again, from the limit that was hit; so does Retry-After."""
    breached = limiter.current_limit
    if breached is None or not breached.breached:
        return render_error(429), 429
    resets_at, _remaining = breached.window
    seconds = max(1, math.ceil(resets_at - time.time()))
    text = f"Too many attempts in a short time. You can try again {wait_phrase(seconds)}."
    return render_error(429, text=text), 429, {"Retry-After": str(seconds)}


def _http_error(exc: HTTPException):
    status = exc.code or 500
    if isinstance(exc, RateLimitExceeded):
        return _too_many_requests()
    if status >= 500:
        # A 503 of our own (a suspended portal) says its own words; others the generic ones.
        text = exc.description if status == 503 and _is_custom(exc) else None
        return render_error(status, text=text), status
    description = exc.description if _is_custom(exc) else None
    return render_error(status, description), status


def _is_custom(exc: HTTPException) -> bool:
    # Only messages written for people by our own code are shown, not Werkzeug's defaults.
    return exc.description != type(exc).description


def _reset_session() -> None:
    """Roll back a failed transaction so the error page itself can render."""
    with suppress(Exception):  # the database may be the thing that is down
        db.session.rollback()


def _service_unavailable(exc: Exception):
    _reset_session()
    log.error("dependency unavailable on %s %s: %s", request.method, request.path, exc)
    return render_error(503), 503


def _unexpected(exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    _reset_session()
    return render_error(500), 500


def init_error_pages(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _service_unavailable)
    app.register_error_handler(RedisConnectionError, _service_unavailable)
    app.register_error_handler(BrokerUnavailable, _service_unavailable)
    app.register_error_handler(InternalServerError, _unexpected)
    app.register_error_handler(Exception, _unexpected)
