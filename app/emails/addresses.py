"""Addresses as mail servers take them: the domain in ASCII (IDNA), the local part as written."""

from __future__ import annotations

from email.headerregistry import Address

import idna


class UndeliverableAddress(Exception):
    """Our mail server cannot take this address; trying again would fail the same way."""


def mail_address(raw: str, display_name: str = "") -> Address:
    """The address with its domain as IDNA A-labels (xn--...), which every mail server takes,
    so an ASCII local part at an internationalised domain always goes out. A non-ASCII local
    part stays as written: only a server that offers SMTPUTF8 can carry it.

    Addresses are checked where they come in (the login form, tenant settings); this only
    converts them, so the operator's sender at a local or test domain passes too.
    """
    local, at, domain = (raw or "").strip().rpartition("@")
    if not at or not local or not domain:
        raise UndeliverableAddress(f"{raw!r} is not an email address")
    try:
        # UTS 46 as email_validator applies it: IDNA 2008, so straße stays straße (xn--strae-oqa).
        ascii_domain = domain if domain.isascii() else idna.encode(domain, uts46=True).decode()
        return Address(display_name, local, ascii_domain)
    except (idna.IDNAError, ValueError) as exc:
        raise UndeliverableAddress(f"{raw!r} is not an address mail can go to: {exc}") from None


def needs_smtputf8(address: Address) -> bool:
    return not address.username.isascii()
