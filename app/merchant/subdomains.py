"""A tenant's subdomain as a merchant chooses it: suggested from the business name, checked by
the tenant rules (tenants/validation.py), and free."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select

from app.extensions import db
from tenants.models import Tenant
from tenants.validation import RESERVED_SUBDOMAINS, validate_subdomain

MAX_LENGTH = 63


class SubdomainTaken(ValueError):
    def __init__(self, subdomain: str) -> None:
        super().__init__(
            f"{subdomain} is taken by another business. Choose another subdomain "
            "(a hyphen or your town often helps)."
        )


def slug(text: str) -> str:
    """'Café Zoë & Co.' -> 'cafe-zoe-co': ASCII letters and digits joined by single hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return "-".join(words)[:MAX_LENGTH].strip("-")


def is_taken(subdomain: str) -> bool:
    return db.session.scalar(select(Tenant.id).where(Tenant.subdomain == subdomain)) is not None


def suggest_subdomain(business_name: str) -> str:
    """A free, valid subdomain close to the business name ('' when the name gives nothing)."""
    base = slug(business_name)
    if not base:
        return ""
    if base in RESERVED_SUBDOMAINS:
        base = f"{base}-billing"
    for n in range(1, 20):
        suffix = "" if n == 1 else f"-{n}"
        candidate = base[: MAX_LENGTH - len(suffix)].rstrip("-") + suffix
        if not is_taken(candidate):
            return candidate
    return ""


def check_subdomain(raw: str) -> str:
    """The subdomain as typed, if it is one: the tenant rules, with no silent fixing of case or
    spaces (what is typed is what customers will see). Raises ValueError with a sentence."""
    value = raw or ""
    if value != value.strip():
        raise ValueError("A subdomain has no spaces.")
    if value != value.lower():
        raise ValueError(f"Use lowercase letters only: {value.lower()} would do.")
    if len(value) > MAX_LENGTH:
        raise ValueError(f"A subdomain is at most {MAX_LENGTH} characters long.")
    if not value.isascii():
        raise ValueError(
            "Use only the letters a-z, digits and hyphens (no accents or other alphabets)."
        )
    return validate_subdomain(value)


def change_subdomain(tenant: Tenant, new: str) -> str:
    """Move the tenant to `new` (checked); raises SubdomainTaken. The caller commits, and turns
    an IntegrityError (someone took it meanwhile) into SubdomainTaken too."""
    new = check_subdomain(new)
    if new != tenant.subdomain and is_taken(new):
        raise SubdomainTaken(new)
    tenant.subdomain = new
    db.session.flush()
    return new
