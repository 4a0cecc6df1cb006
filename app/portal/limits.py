"""Rate limits for the login steps, counted per action (a form reached by two routes is one
action), and shaped so that a stranger cannot turn them against the person they target.

- Asking for a sign-in email: per address *from one IP* (5 in 10 minutes, 20 a day), per address
  from every IP together only over a short window (10 in 10 minutes: a flood of strangers can
  delay a person's email by minutes, never lock them out for the day), per IP, per tenant.
- Typing a code: per address (10 an hour, 30 a day, whatever the IPs), per IP, and a tenant-wide
  cap on wrong codes, so guessing across many addresses is bounded too. None of these touch the
  link in the email, which keeps working: a person whose code guesses a stranger used up still
  signs in with one click.
- Passwords: wrong ones per address from one network (10 in 10 minutes), per address from all
  (50 an hour), and every attempt per IP.
An IPv6 client is counted by its /56, and the tenant-wide email cap counts only requests that
queue an email.
"""

from __future__ import annotations

from flask import g, request, session
from flask_login import current_user

from app.extensions import limiter
from app.portal.accounts import canonical_email
from app.rate_limits import accepted, client_network, limit_posts, refused


def _typed_address() -> str:
    return canonical_email(request.form.get("email", "")[:320])[:254]


def _email_key() -> str:
    return f"email:{g.tenant.id}:{_typed_address()}"


def _email_ip_key() -> str:
    return f"email-ip:{g.tenant.id}:{_typed_address()}:{client_network()}"


def _code_email_key() -> str:
    """The address whose code is being tried (the one the session asked a link for)."""
    return f"code-email:{g.tenant.id}:{session.get('login_email', '')}"


def _tenant_key() -> str:
    return f"tenant:{g.tenant.id}"


def _ip_key() -> str:
    return f"ip:{client_network()}"


# Wrong codes per tenant, whatever the addresses and IPs: bounds guessing spread over many
# addresses (each allows 10 an hour).
TENANT_CODE_MISSES = "300 per 10 minutes"


def login_link_limits(view):
    """Asking for a login email: a person needs a few; a script wants thousands."""
    view = limit_posts(view, "5 per 10 minutes;20 per day", "login-email:address-ip", _email_ip_key)
    view = limit_posts(view, "10 per 10 minutes", "login-email:address", _email_key)
    view = limit_posts(view, "20 per 10 minutes;100 per day", "login-email:ip", _ip_key)
    # Only requests that queue an email count: junk input cannot use up a tenant's sign-ins.
    return limit_posts(
        view, "600 per minute", "login-email:tenant", _tenant_key, deduct_when=accepted
    )


def code_limits(view):
    view = limit_posts(view, "10 per hour;30 per day", "login-code:address", _code_email_key)
    view = limit_posts(view, "30 per 10 minutes", "login-code:ip", _ip_key)
    # Only wrong codes count here: a busy merchant's customers signing in cost nothing.
    return limit_posts(
        view, TENANT_CODE_MISSES, "login-code:tenant-misses", _tenant_key, deduct_when=refused
    )


def _password_address_ip_key() -> str:
    return f"password-ip:{g.tenant.id}:{_typed_address()}:{client_network()}"


def password_limits(view):
    # Wrong passwords only, per address from one network, with a looser ceiling per address:
    # a stranger's guesses from elsewhere do not refuse the owner's right password for long.
    view = limit_posts(
        view,
        "10 per 10 minutes",
        "login-password:address-ip",
        _password_address_ip_key,
        deduct_when=refused,
    )
    view = limit_posts(
        view, "50 per hour", "login-password:address", _email_key, deduct_when=refused
    )
    return limit_posts(view, "30 per 10 minutes", "login-password:ip", _ip_key)


# Opening an invoice's page or PDF may read the invoice again from the merchant's Stripe (a
# link older than Stripe's ten days, or none yet): a person opens a few; a script looping on a
# draft's link would spend the merchant's Stripe requests.
INVOICE_LINKS = "60 per 10 minutes"


def _signed_in_customer_key() -> str:
    return f"customer:{g.tenant.id}:{current_user.get_id()}"


def invoice_link_limits(view):
    return limiter.shared_limit(
        INVOICE_LINKS, scope="invoice-link:customer", key_func=_signed_in_customer_key,
        methods=["GET"],
    )(view)  # fmt: skip
