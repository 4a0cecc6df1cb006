"""Small helpers to expose emulator functions as localstripe-style JSON routes."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web
from localstripe import resources
from localstripe.errors import UserError
from localstripe.server import get_post_data, json_response, unflatten_data

log = logging.getLogger("stripe_emulator")

Route = tuple[str, str, Callable]


def json_route(func: Callable) -> Callable:
    """Wrap `func(**params)` as a handler; params = form/JSON body + query + URL parts.

    `func` returns either a localstripe object (exported with `expand`) or a plain dict.
    """

    async def handler(request: web.Request) -> web.Response:
        params = dict(await get_post_data(request) or {})
        params.update(unflatten_data(request.query) or {})
        params.update(request.match_info)
        expand = params.pop("expand", None)
        result = func(**params)
        if hasattr(result, "_export"):
            result = result._export(expand=expand)
        return json_response(result)

    return handler


def stripe_error(status: int, message: str, **fields: str) -> UserError:
    """A UserError rendered in Stripe's error shape, e.g. code="resource_missing"."""
    return UserError(status, message, dict(fields))


@web.middleware
async def error_middleware(request: web.Request, handler: Callable) -> web.StreamResponse:
    """Render localstripe's UserError, and turn crashes into a Stripe-shaped api_error.

    localstripe answers a bare 500 text page on unexpected parameters (TypeError); a JSON
    error naming the cause is what stripe-python can surface to the developer.
    """
    try:
        return await handler(request)
    except UserError as error:
        return error.to_response()
    except web.HTTPException:
        raise
    except Exception as error:  # noqa: BLE001 - an emulator must answer, never hang up
        log.exception("emulator crashed on %s %s", request.method, request.path)
        body = {
            "error": {
                "type": "api_error",
                "message": f"Stripe emulator error: {type(error).__name__}: {error}",
            }
        }
        return json_response(body, status=500)


def _retrieve_or_stripe_404(cls, id):
    obj = resources.store.get(f"{cls.object}:{id}")
    if obj is None:
        raise stripe_error(404, f"No such {cls.object}: '{id}'", code="resource_missing")
    return obj


def install_stripe_not_found() -> None:
    """Answer a missing object like Stripe ("No such customer: 'cus_x'", resource_missing).

    localstripe answers a bare "Not Found", which apps cannot tell apart from a wrong URL.
    """
    resources.StripeObject._api_retrieve = classmethod(_retrieve_or_stripe_404)
