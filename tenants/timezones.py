"""The merchant's timezone: the one dates are shown in to their customers.

A tenant setting; until one is set it defaults to what the merchant's Stripe account reports:
its Dashboard timezone (settings.dashboard.timezone), else its country's zone when the country
has only one. Without either, dates are in UTC, and pages say so.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.core import get_global

UTC_NAME = "UTC"


def zone_of(name: str | None) -> ZoneInfo:
    """The zone named by a tenant's setting; UTC when unset (or no longer known)."""
    try:
        return ZoneInfo(name or UTC_NAME)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(UTC_NAME)


def validate_timezone(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if value not in available_timezones():
        raise ValueError(f"{value!r} is not a timezone name (like Europe/Paris or America/Denver).")
    return value


def timezone_of_account(account: dict) -> str | None:
    """What a Stripe Account object says of its timezone: the Dashboard's, else its country's
    only zone (CLDR); None when it does not tell (a country spanning several zones)."""
    dashboard = ((account.get("settings") or {}).get("dashboard") or {}).get("timezone")
    if dashboard and dashboard in available_timezones():
        return dashboard
    zones = get_global("territory_zones").get((account.get("country") or "").upper(), ())
    return zones[0] if len(zones) == 1 else None


@cache
def _named_zones() -> tuple[str, ...]:
    # The places people pick from (Europe/Paris), not the aliases kept for old systems
    # (Etc/GMT+5, US/Pacific, posix/...): every zone people live in has a place name.
    return tuple(
        sorted(
            name
            for name in available_timezones()
            if "/" in name and name.split("/", 1)[0] in PLACE_PREFIXES
        )
    )


PLACE_PREFIXES = frozenset(
    {"Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian",
     "Pacific"}
)  # fmt: skip


def zone_choices(now: datetime | None = None) -> list[tuple[str, str]]:
    """Every place's zone with its offset today ("Europe/Paris (UTC+01:00)"), for a picker."""
    now = now or datetime.now(UTC)
    choices = []
    for name in _named_zones():
        offset = now.astimezone(ZoneInfo(name)).strftime("%z")
        choices.append((name, f"{name.replace('_', ' ')} (UTC{offset[:3]}:{offset[3:]})"))
    return choices
