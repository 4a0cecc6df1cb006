"""The rules for a tenant's settings, in one place for every way they are set: the `flask
tenants` CLI now, the merchant dashboard later. Each rule returns the value to store (None for
"not set") or raises ValueError with a sentence for a person.

Names and addresses go into email headers and pages; URLs become links customers click.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from tenants.timezones import validate_timezone

SUBDOMAIN_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# Names that would collide with the platform's own hosts.
RESERVED_SUBDOMAINS = frozenset(
    {"www", "api", "app", "admin", "ops", "dashboard", "mail", "static", "webhooks", "billfold"}
)
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
LOGO_URL_RE = re.compile(r"(/[^\s\"'<>\\]*|https://[A-Za-z0-9.-]+(:\d+)?/[^\s\"'<>\\]*)")
# Text that reorders what follows it: a name could make an address or link read differently.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# The columns' sizes (tenants/models.py): longer input is refused, never cut or a database error.
MAX_LENGTH = {
    "name": 120,
    "sender name": 120,
    "support email": 254,
    "support URL": 500,
    "logo URL": 500,
    "return URL": 500,
    "closed message": 500,
    "cancellation reason": 80,
}
MAX_CANCEL_REASONS = 10


def validate_subdomain(subdomain: str) -> str:
    """Return the normalised subdomain or raise ValueError with a sentence for a person."""
    value = (subdomain or "").strip().lower()
    if not SUBDOMAIN_RE.match(value):
        raise ValueError(
            "A subdomain has 1-63 lowercase letters, digits or hyphens, "
            "and starts and ends with a letter or digit."
        )
    if value in RESERVED_SUBDOMAINS:
        raise ValueError(f"'{value}' is reserved; choose another subdomain.")
    return value


def validate_color(value: str) -> str:
    if not COLOR_RE.fullmatch(value or ""):
        raise ValueError("A colour is written as #RRGGBB, for example #4f46e5.")
    return value.lower()


def _is_control(character: str) -> bool:
    # Cc: C0/C1 controls (tab, CR, LF, NEL); Zl/Zp: U+2028/U+2029, which end a line too.
    return unicodedata.category(character) in {"Cc", "Zl", "Zp"} or character in BIDI_CONTROLS


def validate_text_setting(label: str, value: str) -> str | None:
    """A one-line setting (name, sender, addresses): it goes into email headers and pages."""
    value = (value or "").strip()
    if any(_is_control(character) for character in value):
        raise ValueError(f"{label} must be one line of text, without control characters.")
    limit = MAX_LENGTH.get(label)
    if limit and len(value) > limit:
        raise ValueError(f"{label} is at most {limit} characters long.")
    return value or None


def validate_name(value: str) -> str:
    name = validate_text_setting("name", value)
    if not name:
        raise ValueError("a tenant needs a name")
    return name


def validate_sender_name(value: str) -> str | None:
    """The name in the From line; the address is the platform's, and the name cannot pose as
    another one ("PayPal <security@paypal.com>")."""
    name = validate_text_setting("sender name", value)
    if name and any(character in name for character in "<>@"):
        raise ValueError("sender name is a name, without an email address or < > @.")
    return name


def validate_support_email(value: str, *, for_sending: bool = False) -> str | None:
    """One plain address (no display name, no ?bcc=, no quoted tricks), normalised.

    Its local part is ASCII: every email of the tenant carries it (Reply-To), and mail
    servers without SMTPUTF8 could not take those emails. Its domain may be internationalised.
    `for_sending`: a stored address about to go into a header, where only its form matters
    (a test or local domain passes).
    """
    address = validate_text_setting("support email", value)
    if address is None:
        return None
    try:
        result = validate_email(
            address,
            check_deliverability=False,
            allow_smtputf8=False,
            globally_deliverable=not for_sending,
            test_environment=for_sending,
        )
    except EmailNotValidError as exc:
        raise ValueError(f"support email must be one address like help@acme.com: {exc}") from None
    return result.normalized


def validate_support_url(value: str) -> str | None:
    """A help page on the web: http(s) with a host; no script, no credentials, no spaces."""
    return _web_address("support URL", value, "https://acme.com/help")


def validate_return_url(value: str) -> str | None:
    """Where the portal's "Back to <merchant>" leads: a page on the web, as a support URL."""
    return _web_address("return URL", value, "https://acme.com/account")


def _web_address(label: str, value: str, example: str) -> str | None:
    url = validate_text_setting(label, value)
    if url is None:
        return None
    refused = ValueError(f"{label} must be a web address such as {example}.")
    if any(character.isspace() for character in url) or "\\" in url:
        raise refused
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise refused from None
    # "https://acme.com@evil.example/" shows one site and opens another.
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname or "@" in parts.netloc:
        raise refused
    return url


def validate_logo_url(value: str) -> str | None:
    """A logo on our own origin ("/static/...") or on the merchant's site over https."""
    value = validate_text_setting("logo URL", value) or ""
    if value and (value.startswith("//") or not LOGO_URL_RE.fullmatch(value)):
        raise ValueError("A logo is a path on this site (/static/...) or an https:// address.")
    return value or None


def validate_cancel_reasons(lines: str | list[str]) -> list[str] | None:
    """The reasons a cancelling customer picks from: one a line, each short, none twice."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    reasons: list[str] = []
    for line in lines:
        reason = validate_text_setting("cancellation reason", line)
        if reason and reason.casefold() not in {kept.casefold() for kept in reasons}:
            reasons.append(reason)
    if len(reasons) > MAX_CANCEL_REASONS:
        raise ValueError(f"Offer at most {MAX_CANCEL_REASONS} cancellation reasons.")
    return reasons or None


def validate_closed_message(value: str) -> str | None:
    """What customers read while the portal is closed: plain text, shown escaped."""
    text = (value or "").strip()
    if any(_is_control(character) for character in text.replace("\n", " ").replace("\r", "")):
        raise ValueError("closed message must be plain text, without control characters.")
    if len(text) > MAX_LENGTH["closed message"]:
        raise ValueError(
            f"closed message is at most {MAX_LENGTH['closed message']} characters long."
        )
    return text or None


# A tenant setting's name -> its rule, for every place that takes settings from a person.
SETTING_RULES = {
    "name": validate_name,
    "sender_name": validate_sender_name,
    "support_email": validate_support_email,
    "support_url": validate_support_url,
    "logo_url": validate_logo_url,
    "primary_color": validate_color,
    "accent_color": validate_color,
    "timezone": validate_timezone,
}


def validate_setting(name: str, value: str):
    return SETTING_RULES[name](value)
