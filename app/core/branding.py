"""A tenant's colours as CSS variables, with a readable text colour on its brand colour."""

from __future__ import annotations

from tenants.models import COLOR_RE, Tenant

DEFAULT_PRIMARY = "#4f46e5"
DEFAULT_ACCENT = "#0ea5e9"


def _luminance(hex_color: str) -> float:
    channels = [int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_text(hex_color: str) -> str:
    """Black or white, whichever reads better on the given background (WCAG luminance)."""
    return "#0f172a" if _luminance(hex_color) > 0.35 else "#ffffff"


def safe_color(value: str | None, default: str) -> str:
    # Colours are validated on input; this guards the stylesheet against anything older.
    return value if value and COLOR_RE.match(value) else default


def brand_stylesheet(tenant: Tenant) -> str:
    primary = safe_color(tenant.primary_color, DEFAULT_PRIMARY)
    accent = safe_color(tenant.accent_color, DEFAULT_ACCENT)
    return (
        ":root {\n"
        f"  --brand: {primary};\n"
        f"  --brand-contrast: {contrast_text(primary)};\n"
        f"  --accent: {accent};\n"
        "}\n"
    )
