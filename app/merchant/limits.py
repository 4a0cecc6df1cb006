"""Rate limits of the merchant dashboard's sign-up, sign-in and password reset, shaped as the
portal's (app/portal/limits.py) so that a stranger cannot turn them against a merchant:

- wrong passwords count per address *from one network* first (10 in 10 minutes), with a looser
  ceiling per address from everywhere (50 an hour) that only a distributed attack reaches — and
  the reset link still works then; every attempt counts per network too;
- reset emails per address from one network (5 in 10 minutes, 20 a day), per address from all
  networks only over 10 minutes (a flood can delay a person's email, never block it for the day),
  per network;
- sign-ups that go through per address and per network (5 an hour), every attempt per network
  (30 an hour).
An IPv6 client counts as its /56 and an address as email_validator normalises it, as there.
"""

from __future__ import annotations

from flask import request
from flask_login import current_user

from app.extensions import limiter
from app.portal.accounts import canonical_email
from app.rate_limits import accepted, client_network, limit_posts, refused


def _typed_address() -> str:
    return canonical_email(request.form.get("email", "")[:320])[:254]


def _address_key() -> str:
    return f"merchant-email:{_typed_address()}"


def _address_network_key() -> str:
    return f"merchant-email-ip:{_typed_address()}:{client_network()}"


def _network_key() -> str:
    return f"merchant-ip:{client_network()}"


def _user_key() -> str:
    return f"merchant-user:{current_user.get_id() if current_user.is_authenticated else ''}"


def signup_limits(view):
    # Only sign-ups that go through (and queue an email) count per address and per network;
    # every attempt counts per network more loosely (each hashes a password), so a person
    # fixing typos is never stopped and a script is.
    view = limit_posts(
        view,
        "3 per 10 minutes;10 per day",
        "merchant-signup:address-ip",
        _address_network_key,
        deduct_when=accepted,
    )
    view = limit_posts(
        view, "10 per hour", "merchant-signup:address", _address_key, deduct_when=accepted
    )
    view = limit_posts(
        view, "5 per hour;20 per day", "merchant-signup:ip-created", _network_key,
        deduct_when=accepted,
    )  # fmt: skip
    return limit_posts(view, "30 per hour;100 per day", "merchant-signup:ip", _network_key)


def login_limits(view):
    view = limit_posts(
        view,
        "10 per 10 minutes",
        "merchant-login:address-ip",
        _address_network_key,
        deduct_when=refused,
    )
    view = limit_posts(
        view, "50 per hour", "merchant-login:address", _address_key, deduct_when=refused
    )
    return limit_posts(view, "30 per 10 minutes", "merchant-login:ip", _network_key)


def reset_limits(view):
    view = limit_posts(
        view, "5 per 10 minutes;20 per day", "merchant-reset:address-ip", _address_network_key
    )
    view = limit_posts(view, "10 per 10 minutes", "merchant-reset:address", _address_key)
    return limit_posts(view, "20 per 10 minutes;100 per day", "merchant-reset:ip", _network_key)


def resend_limits(view):
    """Emails a signed-in merchant asks for (verification again, a new address)."""
    return limit_posts(view, "5 per 10 minutes;20 per day", "merchant-resend:user", _user_key)


def current_password_limits(view):
    """Wrong current passwords on a settings form: a borrowed session cannot guess its way to
    the password (or through it, to the address)."""
    return limit_posts(
        view, "10 per 10 minutes", "merchant-current-password:user", _user_key, deduct_when=refused
    )


def stripe_check_limits(view):
    """Each pasted key or OAuth start costs calls to Stripe (a key: one per permission), so a
    signed-in session cannot turn the dashboard into a key-testing or request-spraying tool."""
    return limit_posts(
        view, "20 per 10 minutes;100 per day", "merchant-stripe-check:user", _user_key
    )


def backfill_retry_limits(view):
    return limit_posts(
        view, "5 per 10 minutes;30 per day", "merchant-backfill-retry:user", _user_key
    )


def test_email_limits(view):
    """Test emails go to the merchant's own address, but each is a real send from the
    merchant's name: a few now and then are enough to check the look."""
    return limit_posts(view, "3 per 10 minutes;10 per day", "merchant-test-email:user", _user_key)


def logo_upload_limits(view):
    """Each upload is decoded and re-encoded: CPU a script could spend."""
    return limit_posts(view, "20 per 10 minutes;100 per day", "merchant-logo:user", _user_key)


def team_invite_limits(view):
    """Each invitation is an email from Billfold to an address the owner typed."""
    return limit_posts(view, "10 per 10 minutes;50 per day", "merchant-invite:user", _user_key)


def invite_resend_limits(view):
    return limit_posts(
        view, "3 per 10 minutes;10 per day", "merchant-invite-resend:user", _user_key
    )


def join_limits(view):
    """Accepting an invitation hashes a password: counted per network, like sign-ups."""
    return limit_posts(view, "20 per 10 minutes;100 per day", "merchant-join:ip", _network_key)


def export_limits(view):
    """An export reads up to EXPORT_LIMIT rows: a person downloads a few, a script many."""
    return limiter.shared_limit(
        "10 per minute;200 per day", scope="merchant-export:user", key_func=_user_key
    )(view)


def deletion_limits(view):
    """Each refused deletion is a guess at the subdomain; a real owner needs one or two."""
    return limit_posts(view, "10 per 10 minutes;30 per day", "merchant-delete:user", _user_key)
