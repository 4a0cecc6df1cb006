"""What every sign-in form's rate limits share: who is counted, which answers count, one counter
per action (the portal's and the dashboard's limits are built from these)."""

from __future__ import annotations

import ipaddress

from flask_limiter.util import get_remote_address

from app.extensions import limiter


def client_network() -> str:
    """Who is asking, as a limit should count them: an IPv4 address, or the /56 an IPv6 address
    is in (one household or customer is given a /56 or a /64; counted per address, one person
    would have billions of fresh quotas)."""
    raw = get_remote_address() or ""
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if address.version == 4:
        return raw
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.ip_network(f"{address}/56", strict=False))


def refused(response) -> bool:
    """The form was answered with its errors (a wrong password or code, say)."""
    return response.status_code == 400


def accepted(response) -> bool:
    """The form went through and moved on (an email queued, an account made)."""
    return response.status_code == 302


def limit_posts(view, limits: str, scope: str, key_func, **options):
    """Limit a view's POSTs. A shared limit is one counter named by its scope, whichever route
    reached the view."""
    return limiter.shared_limit(
        limits, scope=scope, key_func=key_func, methods=["POST"], **options
    )(view)
