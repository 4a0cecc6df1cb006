"""A tenant's logo, stored in the database so that every web machine serves the same bytes.

Only images Billfold re-encoded itself are stored (app/merchant/logos.py); the URL names the
content's hash, so a new logo is a new URL and browsers may keep each one for a year.
"""

from __future__ import annotations

from datetime import datetime

from flask import Response
from sqlalchemy import DateTime, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from tenants.scoping import TenantScoped

EXTENSIONS = {"image/png": "png", "image/webp": "webp"}


class TenantLogo(TenantScoped, db.Model):
    __tablename__ = "tenant_logos"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    media_type: Mapped[str] = mapped_column(String(20), nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def path(self) -> str:
        return f"/logo/{self.content_hash}.{EXTENSIONS[self.media_type]}"


# An image is all the response may be: nothing in it runs, even opened on its own.
LOGO_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def logo_response(logo: TenantLogo) -> Response:
    response = Response(logo.data, mimetype=logo.media_type)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["Content-Security-Policy"] = LOGO_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"  # mail clients' proxies
    return response
