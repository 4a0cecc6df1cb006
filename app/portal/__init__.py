"""The customer portal: email-link login, account, invoices, card, subscriptions."""

from app.portal import account_views, action_views, login_views  # noqa: F401  (register routes)
from app.portal.blueprint import bp

__all__ = ["bp"]
