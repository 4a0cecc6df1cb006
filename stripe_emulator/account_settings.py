"""An account's country and dashboard timezone, as Stripe's Account object reports them.

docs.stripe.com/api/accounts/object: ``country`` and ``settings.dashboard.timezone`` (an IANA
zone name, set in the Dashboard's account settings; the API does not change it for an existing
Standard account). The emulator's accounts all said country ``US`` and had no timezone; tests
now give one account its own with ``POST /_config/accounts/{id}`` (form fields ``country``,
``timezone``), as its owner would in the Dashboard.
"""

from __future__ import annotations

from aiohttp import web
from localstripe.server import get_post_data

from .routing import Route

# Settings by account id, set from tests (the platform's own account under its id too).
SETTINGS: dict[str, dict] = {}


def settings_of(account_id: str) -> dict:
    return SETTINGS.get(account_id, {})


async def configure_account(request: web.Request) -> web.Response:
    data = dict(await get_post_data(request) or {})
    chosen = {key: data[key] for key in ("country", "timezone") if data.get(key)}
    SETTINGS[request.match_info["id"]] = chosen
    return web.json_response({"id": request.match_info["id"], **chosen})


ROUTES: list[Route] = [("POST", "/_config/accounts/{id}", configure_account)]
