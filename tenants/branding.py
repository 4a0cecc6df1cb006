"""A tenant's colours as CSS variables, each paired with colours that stay readable on it."""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

from tenants.models import Tenant
from tenants.validation import COLOR_RE

DEFAULT_PRIMARY = "#4f46e5"
DEFAULT_ACCENT = "#0ea5e9"
INK = "#0f172a"
WHITE = "#ffffff"
CANVAS = "#f6f7fb"  # the page background behind cards (app.css --canvas)
BLACK = "#000000"
READABLE = 4.5  # WCAG AA for body text


def _luminance(hex_color: str) -> float:
    channels = [int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def contrast_text(hex_color: str) -> str:
    """White or ink, whichever reads better on the colour; pure black where neither reaches AA."""
    best = max((WHITE, INK), key=lambda text: contrast_ratio(hex_color, text))
    return best if contrast_ratio(hex_color, best) >= READABLE else BLACK


def readable_ink(hex_color: str) -> str:
    """The colour, darkened just enough to read as text, links and focus rings on our pages.

    Those sit on white cards and on the slightly grey page canvas; the canvas is the harder one.
    """
    red, green, blue = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    for step in range(21):
        keep = 1 - step / 20
        candidate = "#{:02x}{:02x}{:02x}".format(
            *(round(channel * keep) for channel in (red, green, blue))
        )
        if min(contrast_ratio(candidate, WHITE), contrast_ratio(candidate, CANVAS)) >= READABLE:
            return candidate
    return INK


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
        f"  --brand-ink: {readable_ink(primary)};\n"
        f"  --accent: {accent};\n"
        "}\n"
    )


@dataclass(frozen=True)
class ButtonContrast:
    """How a colour reads as a button: its best text (white or ink) and, when that text fails
    WCAG AA, the nearest shade of the same hue where it passes."""

    color: str
    text: str
    ratio: float
    suggestion: str | None

    @property
    def passes(self) -> bool:
        return self.suggestion is None


def _shade(hue: float, lightness: float, saturation: float) -> str:
    red, green, blue = colorsys.hls_to_rgb(hue, min(max(lightness, 0.0), 1.0), saturation)
    return "#{:02x}{:02x}{:02x}".format(*(round(channel * 255) for channel in (red, green, blue)))


def button_contrast(hex_color: str) -> ButtonContrast:
    """Buttons carry white or ink text; pure black (contrast_text's last resort) passes on any
    colour but reads as a mistake, so a colour that needs it gets a warning and a shade."""
    text = max((WHITE, INK), key=lambda candidate: contrast_ratio(hex_color, candidate))
    ratio = contrast_ratio(hex_color, text)
    if ratio >= READABLE:
        return ButtonContrast(hex_color, text, ratio, None)
    channels = [int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    hue, lightness, saturation = colorsys.rgb_to_hls(*channels)
    # Step lightness away from the colour both ways; the first shade that passes with white
    # (darker) or ink (lighter) text is the nearest one.
    for step in range(1, 101):
        for candidate in (
            _shade(hue, lightness - step / 200, saturation),
            _shade(hue, lightness + step / 200, saturation),
        ):
            if max(contrast_ratio(candidate, WHITE), contrast_ratio(candidate, INK)) >= READABLE:
                return ButtonContrast(hex_color, text, ratio, candidate)
    return ButtonContrast(hex_color, text, ratio, INK)
