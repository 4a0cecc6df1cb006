"""Enrolling an operator's authenticator: a fresh secret, shown as a QR code and as text."""

from __future__ import annotations

import segno
from markupsafe import Markup

from app.extensions import db
from app.ops.models import Operator
from app.ops.totp import new_secret, provisioning_uri


def secret_to_enrol(operator: Operator) -> str:
    """The secret this operator is enrolling; made (and stored encrypted) on first use, so a
    reload shows the same code until a code from it is typed."""
    if not operator.totp_secret:
        operator.totp_secret = new_secret()
        db.session.flush()
    return operator.totp_secret


def qr_code_svg(secret: str, email: str) -> Markup:
    """The otpauth:// address as an inline SVG (no image request, nothing leaves the page)."""
    qr = segno.make(provisioning_uri(secret, email), error="m")
    svg = qr.svg_inline(scale=5, border=2, dark="#111827", light="#ffffff", title="QR code")
    return Markup(svg)  # noqa: S704 - segno's own markup around a URI it encoded


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an authenticator by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
