"""A merchant's branding, changed from the dashboard, and the unsaved branding a preview shows.

Every value goes through tenants/validation.py before any is stored: one bad field stores
nothing. A preview applies the same rules but never stores; a value that fails a rule there
shows the saved one instead, so the preview never breaks while the merchant types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.extensions import db
from tenants.branding import ButtonContrast, button_contrast
from tenants.models import Tenant
from tenants.validation import (
    validate_color,
    validate_name,
    validate_sender_name,
    validate_support_email,
    validate_support_url,
)

# Field -> (the tenant's attribute, the rule). The display name is the tenant's name.
FIELDS = {
    "display_name": ("name", validate_name),
    "primary_color": ("primary_color", validate_color),
    "accent_color": ("accent_color", validate_color),
    "sender_name": ("sender_name", validate_sender_name),
    "support_email": ("support_email", validate_support_email),
    "support_url": ("support_url", validate_support_url),
}
COLOR_LABELS = {"primary_color": "Primary colour", "accent_color": "Accent colour"}


class BrandingRefused(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def checked_values(values: Mapping[str, str]) -> tuple[dict[str, object], dict[str, str]]:
    """Each submitted field's value to store, and a message for each refused one."""
    accepted: dict[str, object] = {}
    errors: dict[str, str] = {}
    for field, (attribute, rule) in FIELDS.items():
        if field not in values:
            continue
        try:
            accepted[attribute] = rule(values[field] or "")
        except ValueError as exc:
            errors[field] = _sentence(str(exc))
    return accepted, errors


def apply_branding(tenant: Tenant, values: Mapping[str, str]) -> None:
    accepted, errors = checked_values(values)
    if errors:
        raise BrandingRefused(errors)
    for attribute, value in accepted.items():
        setattr(tenant, attribute, value)
    db.session.flush()


def preview_tenant(tenant: Tenant, values: Mapping[str, str]) -> Tenant:
    """A copy of the tenant, never added to the session, wearing the valid unsaved values."""
    copy = Tenant(
        subdomain=tenant.subdomain,
        name=tenant.name,
        logo_url=tenant.logo_url,
        primary_color=tenant.primary_color,
        accent_color=tenant.accent_color,
        sender_name=tenant.sender_name,
        support_email=tenant.support_email,
        support_url=tenant.support_url,
        return_url=tenant.return_url,
        allow_card_update=tenant.allow_card_update,
        allow_cancel=tenant.allow_cancel,
        allow_reactivate=tenant.allow_reactivate,
        allow_invoice_payment=tenant.allow_invoice_payment,
    )
    accepted, _ = checked_values(values)
    for attribute, value in accepted.items():
        setattr(copy, attribute, value)
    return copy


@dataclass(frozen=True)
class ContrastWarning:
    field: str
    label: str
    check: ButtonContrast


def contrast_warnings(primary: str, accent: str) -> list[ContrastWarning]:
    warnings = []
    for field, color in (("primary_color", primary), ("accent_color", accent)):
        check = button_contrast(color)
        if not check.passes:
            warnings.append(ContrastWarning(field, COLOR_LABELS[field], check))
    return warnings
