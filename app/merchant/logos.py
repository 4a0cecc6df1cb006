"""A merchant's logo: decoded by Pillow and re-encoded, never stored as uploaded.

Re-encoding keeps the pixels and drops everything else (scripts in a polyglot, metadata,
trailing bytes). Only PNG, JPEG, WebP and GIF are opened; SVG is refused, since a sanitiser
would be a second, harder thing to get right (README, "Logos"). Pillow's decompression-bomb
limit stays on, and the image is checked for size before its pixels are decoded.
"""

from __future__ import annotations

import hashlib
import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from app.extensions import db
from tenants.logos import TenantLogo
from tenants.models import Tenant

MAX_BYTES = 2 * 1024 * 1024
LONG_SIDE = 512
ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
# Larger than any real logo, and far below the bomb limit: refused before decoding.
MAX_SOURCE_PIXELS = 40_000_000
TOO_MANY_PIXELS = "This image is too large in pixels; a logo needs far fewer."


class LogoRefused(ValueError):
    """The upload is not a logo Billfold can use; the message says why, for a person."""


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip().lower()
    return head.startswith(b"<?xml") or b"<svg" in head


def reencode(data: bytes) -> tuple[bytes, str, int, int]:
    """The logo as Billfold stores it: (bytes, media type, width, height)."""
    if not data:
        raise LogoRefused("Choose an image file to upload.")
    if len(data) > MAX_BYTES:
        raise LogoRefused("A logo is at most 2 MB.")
    if _looks_like_svg(data):
        raise LogoRefused(
            "SVG logos are not accepted: export your logo as PNG (or WebP) and upload that."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
            if image.width * image.height > MAX_SOURCE_PIXELS:
                raise LogoRefused(TOO_MANY_PIXELS)
            image.load()
    except LogoRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise LogoRefused(TOO_MANY_PIXELS) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise LogoRefused("This file is not a PNG, JPEG, WebP or GIF image we can read.") from None
    image = ImageOps.exif_transpose(image)
    image.thumbnail((LONG_SIDE, LONG_SIDE))
    keeps_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    image = image.convert("RGBA" if keeps_alpha else "RGB")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue(), "image/png", image.width, image.height


def replace_logo(tenant: Tenant, data: bytes) -> TenantLogo:
    """Store the re-encoded logo as the tenant's only one and point the branding at it.
    Call inside the tenant's context (the table is tenant-owned)."""
    encoded, media_type, width, height = reencode(data)
    db.session.execute(db.delete(TenantLogo).where(TenantLogo.tenant_id == tenant.id))
    logo = TenantLogo(
        tenant_id=tenant.id,
        content_hash=hashlib.sha256(encoded).hexdigest(),
        media_type=media_type,
        data=encoded,
        width=width,
        height=height,
    )
    db.session.add(logo)
    tenant.logo_url = logo.path
    db.session.flush()
    return logo


def remove_logo(tenant: Tenant) -> None:
    db.session.execute(db.delete(TenantLogo).where(TenantLogo.tenant_id == tenant.id))
    tenant.logo_url = None
    db.session.flush()


def logo_by_hash(content_hash: str) -> TenantLogo | None:
    """The current tenant's logo with this hash (the table is scoped to the tenant)."""
    return db.session.scalars(
        db.select(TenantLogo).where(TenantLogo.content_hash == content_hash)
    ).first()
