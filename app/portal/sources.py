"""What a login link may carry from the merchant's site: where it was placed (`?src=`), and the
customer's address to pre-fill (`?email=`). Both are hints for the form, never trusted for
anything else: the address still gets an emailed link like any typed one."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

from app.portal.accounts import normalize_email

# The placements the dashboard offers: (slug, label, where it goes).
PLACEMENTS = (
    ("email-footer", "Email footer", "the footer of your invoices, receipts and newsletters"),
    ("help-center", "Help centre", "your help centre's billing or payments article"),
    ("account-page", "Account page", "the account or settings page of your own app or site"),
)
# Any lower-case slug the merchant makes up is kept too; anything else is dropped.
SOURCE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")


def clean_source(raw: str | None) -> str | None:
    value = raw or ""
    return value if SOURCE_RE.fullmatch(value) else None


def prefill_email(raw: str | None) -> str | None:
    """The address to show in the field, if it is one; else nothing (no error shown for it)."""
    if not raw or len(raw) > 254:
        return None
    try:
        return normalize_email(validate_email(raw, check_deliverability=False).normalized)
    except EmailNotValidError:
        return None
