"""Absolute URLs on the platform host, for the links in Billfold's emails to merchants."""

from __future__ import annotations

from flask import current_app


def platform_url(path: str = "/") -> str:
    scheme = current_app.config.get("PREFERRED_URL_SCHEME") or "https"
    return f"{scheme}://{current_app.config['PLATFORM_DOMAIN']}{path}"
