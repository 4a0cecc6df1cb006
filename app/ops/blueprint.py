"""The operators' console: /ops on the bare platform host. Every page but the sign-in steps
needs an operator's session; anyone else (a merchant's session included) is sent to the
operators' sign-in, which says nothing of what is behind it."""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from flask_login import current_user

from app.ops.models import Operator
from tenants.resolution import require_platform_host

console = Blueprint("console", __name__, url_prefix="/ops")
console.before_request(require_platform_host)

SIGN_IN_ENDPOINTS = frozenset(
    {"console.login", "console.code", "console.enrol", "console.setup", "console.logout"}
)


def current_operator() -> Operator | None:
    user = current_user._get_current_object()
    return user if isinstance(user, Operator) else None


@console.before_request
def operators_only():
    if request.endpoint in SIGN_IN_ENDPOINTS or current_operator() is not None:
        return None
    return redirect(url_for("console.login"))


@console.after_request
def console_pages_are_not_stored(response):
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@console.context_processor
def console_globals():
    return {"operator": current_operator(), "tenant": None}
