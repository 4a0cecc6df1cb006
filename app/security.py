"""Security headers on every response: CSP, no sniffing, no framing, HSTS outside dev."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Request, abort, current_app, g, request
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from werkzeug.routing import BaseConverter

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


# Paths that take a file larger than MAX_CONTENT_LENGTH: their own limit, applied before
# anything (CSRF protection included) reads the body.
LARGER_BODIES = {"/dashboard/branding/logo": 2 * 1024 * 1024 + 64 * 1024}


class BillfoldRequest(Request):
    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and self.path in LARGER_BODIES:
            return LARGER_BODIES[self.path]
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


class StripeIdConverter(BaseConverter):
    """`<stripe_id:name>`: an id shaped like Stripe's (prefix_alnum); anything else is a 404
    at routing, before a malformed id can reach a query or an API path."""

    regex = r"[a-z]{2,8}_[A-Za-z0-9]{1,250}"


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def content_security_policy(
    stripe_js_url: str | None, image_origin: str | None = None, form_targets: tuple[str, ...] = ()
) -> str:
    stripe = _origin(stripe_js_url)
    extra = f" {stripe}" if stripe else ""
    images = f" {image_origin}" if image_origin else ""
    forms = "".join(f" {origin}" for origin in form_targets)
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self'{extra}",
            f"frame-src 'self'{extra}",
            f"connect-src 'self'{extra}",
            f"img-src 'self' data:{images}",
            "style-src 'self'",
            "font-src 'self'",
            f"form-action 'self'{forms}",
            "base-uri 'none'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ]
    )


def first_party_only() -> None:
    """Mark this page as loading nothing from elsewhere (a page whose URL carries a login
    token): no merchant-hosted logo, and a CSP that would refuse one."""
    g.first_party_only = True


def allow_form_redirect_to(*urls: str | None) -> None:
    """Let this page's forms end on these sites: browsers hold a form's redirects to the CSP's
    form-action too, so a POST answered with a redirect to Stripe's consent page needs it."""
    origins = [origin for origin in map(_origin, urls) if origin]
    g.form_targets = tuple(dict.fromkeys([*g.get("form_targets", ()), *origins]))


def brand_logo_url() -> str | None:
    """The tenant's logo as this page may show it: ours always, the merchant's https one only
    where third-party assets are allowed."""
    if "brand_logo_url" not in g:
        tenant = g.get("tenant")
        url = tenant.logo_url if tenant is not None else None
        hidden = url and url.startswith("https://") and g.get("first_party_only")
        g.brand_logo_url = None if hidden else url
    return g.brand_logo_url


def csrf_field() -> Markup:
    """The hidden CSRF input of a form, built once per request: every form of a session carries
    the same token, and a page with a pay button per invoice rendered it once per row."""
    if "csrf_field" not in g:
        g.csrf_field = Markup('<input name="csrf_token" type="hidden" value="%s">') % (
            generate_csrf()
        )
    return g.csrf_field


def add_security_headers(response):
    config = current_app.config
    headers = response.headers
    logo = brand_logo_url()
    image_origin = _origin(logo) if logo and logo.startswith("https://") else None
    headers.setdefault(
        "Content-Security-Policy",
        content_security_policy(config["STRIPE_JS_URL"], image_origin, g.get("form_targets", ())),
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if config.get("HSTS"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def refuse_nul_bytes() -> None:
    """A NUL byte is never part of a real address, id or sentence, and PostgreSQL text cannot
    hold one: refuse it plainly (400) rather than fail deep inside a query (500)."""
    values = [value for _, value in request.args.items(multi=True)]
    if request.mimetype in FORM_TYPES:
        values += [value for _, value in request.form.items(multi=True)]
    if "\x00" in request.path or any("\x00" in value for value in values):
        abort(400)


def init_security(app: Flask) -> None:
    app.url_map.converters["stripe_id"] = StripeIdConverter
    app.jinja_env.globals["brand_logo_url"] = brand_logo_url
    app.jinja_env.globals["csrf_field"] = csrf_field
    app.before_request(refuse_nul_bytes)
    app.after_request(add_security_headers)
    if app.config.get("PROXY_FIX_HOPS"):
        app.wsgi_app = behind_proxies(app.wsgi_app, app.config["PROXY_FIX_HOPS"])


def behind_proxies(wsgi_app, hops: int):
    """Take the scheme and the client address from the `hops` proxies in front of the app.

    Never a forwarded host, port or prefix: the Host header chooses the tenant, and a client
    could send its own X-Forwarded-Host through a proxy that passes it on.
    """
    from werkzeug.middleware.proxy_fix import ProxyFix

    return ProxyFix(wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)
