"""Rate limits for the login steps: per IP, per email (in this tenant) and per tenant."""

from __future__ import annotations

from flask import g, request, session
from flask_limiter.util import get_remote_address

from app.extensions import limiter
from app.portal.accounts import canonical_email


def _email_key() -> str:
    return f"email:{g.tenant.id}:{canonical_email(request.form.get('email', '')[:320])[:254]}"


def _code_email_key() -> str:
    """The address whose code is being tried (the one the session asked a link for)."""
    return f"code-email:{g.tenant.id}:{session.get('login_email', '')}"


def _tenant_key() -> str:
    return f"tenant:{g.tenant.id}"


def _ip_key() -> str:
    return f"ip:{get_remote_address()}"


def login_link_limits(view):
    """Asking for a login email: a person needs a few; a script wants thousands."""
    view = limiter.limit("5 per 10 minutes;20 per day", key_func=_email_key, methods=["POST"])(view)
    view = limiter.limit("20 per 10 minutes;100 per day", key_func=_ip_key, methods=["POST"])(view)
    return limiter.limit("600 per minute", key_func=_tenant_key, methods=["POST"])(view)


def code_limits(view):
    # Each code allows 5 tries. Across the many codes one address can be sent, guesses are
    # bounded per address (whatever the number of IPs) and per IP (whatever the addresses).
    # A person locked out here still has the link in the email, which this limit does not touch.
    view = limiter.limit("10 per hour;30 per day", key_func=_code_email_key, methods=["POST"])(view)
    return limiter.limit("30 per 10 minutes", key_func=_ip_key, methods=["POST"])(view)


def password_limits(view):
    view = limiter.limit("10 per 10 minutes", key_func=_email_key, methods=["POST"])(view)
    return limiter.limit("30 per 10 minutes", key_func=_ip_key, methods=["POST"])(view)
