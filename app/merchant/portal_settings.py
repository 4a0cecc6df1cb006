"""What a merchant lets customers do in its portal, changed from the dashboard.

Every value is checked by the rules in tenants/validation.py before any is stored: a form with
one bad field changes nothing. The portal reads these columns on each request, and its action
views (app/portal/action_views.py) refuse what is switched off, so a change holds at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.extensions import db
from tenants.models import Tenant
from tenants.timezones import validate_timezone
from tenants.validation import (
    validate_cancel_reasons,
    validate_closed_message,
    validate_return_url,
)

TOGGLES = ("allow_cancel", "allow_reactivate", "allow_card_update", "allow_invoice_payment",
           "ask_cancel_reason")  # fmt: skip


class SettingsRefused(ValueError):
    """One message per field that was refused; nothing was stored."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class PortalSettings:
    toggles: dict[str, bool]
    cancel_reasons: str
    return_url: str
    portal_closed: bool
    closed_message: str
    timezone: str = ""


def _checked(errors: dict[str, str], field: str, rule, value):
    try:
        return rule(value)
    except ValueError as exc:
        message = str(exc)
        errors[field] = message[:1].upper() + message[1:]
        return None


def apply_portal_settings(tenant: Tenant, settings: PortalSettings) -> None:
    errors: dict[str, str] = {}
    reasons = _checked(errors, "cancel_reasons", validate_cancel_reasons, settings.cancel_reasons)
    return_url = _checked(errors, "return_url", validate_return_url, settings.return_url)
    message = _checked(errors, "closed_message", validate_closed_message, settings.closed_message)
    timezone = _checked(errors, "timezone", validate_timezone, settings.timezone)
    if errors:
        raise SettingsRefused(errors)
    for name in TOGGLES:
        setattr(tenant, name, bool(settings.toggles.get(name)))
    tenant.cancel_reasons = reasons
    tenant.return_url = return_url
    tenant.portal_closed = settings.portal_closed
    tenant.portal_closed_message = message
    tenant.timezone = timezone
    db.session.flush()
