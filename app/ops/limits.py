"""Rate limits of the operators' sign-in, built from app/rate_limits.py as the dashboard's are:
wrong passwords per address from one network (5 in 10 minutes) and from everywhere (20 an
hour); wrong codes per operator (5 in 10 minutes: a 6-digit code is guessed one in 300,000
tries); every attempt per network; setup links per network."""

from __future__ import annotations

from flask import request, session

from app.ops.accounts import PENDING_KEY
from app.portal.accounts import canonical_email
from app.rate_limits import client_network, limit_posts, refused


def _typed_address() -> str:
    return canonical_email(request.form.get("email", "")[:320])[:254]


def _address_key() -> str:
    return f"ops-email:{_typed_address()}"


def _address_network_key() -> str:
    return f"ops-email-ip:{_typed_address()}:{client_network()}"


def _network_key() -> str:
    return f"ops-ip:{client_network()}"


def _pending_key() -> str:
    pending = session.get(PENDING_KEY)
    who = pending.get("id") if isinstance(pending, dict) else ""
    return f"ops-pending:{who}"


def login_limits(view):
    view = limit_posts(
        view,
        "5 per 10 minutes",
        "ops-login:address-ip",
        _address_network_key,
        deduct_when=refused,
    )
    view = limit_posts(view, "20 per hour", "ops-login:address", _address_key, deduct_when=refused)
    return limit_posts(view, "20 per 10 minutes", "ops-login:ip", _network_key)


def code_limits(view):
    view = limit_posts(
        view,
        "5 per 10 minutes;20 per day",
        "ops-code:operator",
        _pending_key,
        deduct_when=refused,
    )
    return limit_posts(view, "20 per 10 minutes", "ops-code:ip", _network_key)


def setup_limits(view):
    return limit_posts(view, "10 per 10 minutes", "ops-setup:ip", _network_key)
