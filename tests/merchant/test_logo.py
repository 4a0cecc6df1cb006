"""Logo upload: decoded and re-encoded by Pillow, stored in the database, served from our origin
under its hash with long caching, nosniff and a CSP; hostile files are refused and store nothing."""

import io
import struct
import zlib

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.test import EnvironBuilder

from app.extensions import db
from tenants.context import tenant_context
from tenants.logos import TenantLogo
from tenants.models import Tenant
from tests.merchant.conftest import log_in, merchant_user_for
from tests.support.portal_client import csrf_from


@pytest.fixture
def acme(db_session, make_tenant):
    return make_tenant("acme", name="Acme Rockets")


@pytest.fixture
def dashboard(client_for, acme):
    merchant_user_for(acme)
    client = client_for(None)
    assert log_in(client).status_code == 302
    return client


def image_bytes(fmt: str, size=(1000, 400), mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 30, 60) if mode == "RGB" else None).save(out, format=fmt)
    return out.getvalue()


def upload(client, data: bytes, filename: str = "logo.png", token: str | None = None):
    token = token or csrf_from(client.get("/dashboard/branding").text)
    # Built by hand so that the spooled body of a large upload is closed after the request.
    builder = EnvironBuilder(
        path="/dashboard/branding/logo",
        method="POST",
        base_url=f"http://{client.host}",
        data={"csrf_token": token, "logo": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )
    environ = builder.get_environ()
    try:
        return client.open(environ)
    finally:
        environ["wsgi.input"].close()
        builder.close()


def logos_of(tenant) -> list[TenantLogo]:
    db.session.expire_all()
    with tenant_context(tenant.id):
        return list(db.session.scalars(select(TenantLogo)))


def fresh(tenant) -> Tenant:
    db.session.expire_all()
    return db.session.get(Tenant, tenant.id)


def with_size_claimed(png: bytes, width: int, height: int) -> bytes:
    """The PNG with its header claiming another size (CRC fixed): a decompression bomb's
    header, without the memory to make a real one."""
    ihdr = png[12:29]
    body = ihdr[:4] + struct.pack(">II", width, height) + ihdr[12:]
    return png[:12] + body + struct.pack(">I", zlib.crc32(body)) + png[33:]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_a_logo_is_reencoded_stored_and_served_from_our_origin(dashboard, client_for, acme, fmt):
    response = upload(dashboard, image_bytes(fmt), f"logo.{fmt.lower()}")
    assert response.status_code == 302
    [logo] = logos_of(acme)
    assert fresh(acme).logo_url == f"/logo/{logo.content_hash}.png"
    stored = Image.open(io.BytesIO(logo.data))
    assert stored.format == "PNG" and max(stored.size) == 512 and stored.size == (512, 205)
    portal = client_for("acme")
    assert f'src="/logo/{logo.content_hash}.png"' in portal.get("/").text
    served = portal.get(f"/logo/{logo.content_hash}.png")
    assert served.status_code == 200 and served.data == logo.data
    assert served.mimetype == "image/png"
    assert "max-age=31536000" in served.headers["Cache-Control"]
    assert "immutable" in served.headers["Cache-Control"]
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"].startswith("default-src 'none'")
    email = dashboard.get("/dashboard/branding/preview?page=email").text
    assert f"/dashboard/branding/logo/{logo.content_hash}.png" in email


def test_a_new_logo_replaces_the_old_one(dashboard, acme):
    upload(dashboard, image_bytes("PNG"))
    upload(dashboard, image_bytes("PNG", size=(300, 300)))
    [logo] = logos_of(acme)
    assert logo.width == 300 and fresh(acme).logo_url == logo.path
    page = dashboard.get("/dashboard/branding")
    token = csrf_from(page.text)
    assert (
        dashboard.post("/dashboard/branding/logo/remove", data={"csrf_token": token}).status_code
        == 302
    )
    assert logos_of(acme) == [] and fresh(acme).logo_url is None


def test_a_polyglot_keeps_only_its_pixels(dashboard, acme):
    polyglot = image_bytes("JPEG") + b"<html><script>alert(document.domain)</script></html>"
    assert upload(dashboard, polyglot, "logo.jpg").status_code == 302
    [logo] = logos_of(acme)
    assert b"<script" not in logo.data and logo.data.startswith(b"\x89PNG")


UNREADABLE = "not a PNG, JPEG, WebP or GIF"
NO_SVG = "SVG logos are not accepted"
SVG_ONLOAD = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"<html><script>alert(1)</script></html>", "logo.png", UNREADABLE),
        (SVG_ONLOAD, "logo.svg", NO_SVG),
        (b'<?xml version="1.0"?><svg><foreignObject/></svg>', "logo.png", NO_SVG),
        (EPS, "logo.eps", UNREADABLE),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "logo.png", UNREADABLE),
        (b"", "logo.png", "Choose an image file"),
        (b"\x00" * (2 * 1024 * 1024 + 1), "logo.png", "at most 2 MB"),
    ],
)
def test_what_is_not_a_usable_image_is_refused_and_nothing_is_stored(
    dashboard, acme, data, filename, message
):
    response = upload(dashboard, data, filename)
    assert response.status_code == 400
    assert message in response.text
    assert logos_of(acme) == [] and fresh(acme).logo_url is None


@pytest.mark.parametrize("side", [20_000, 7_000])  # past Pillow's bomb limit; past ours only
def test_an_image_bomb_is_refused_before_decoding(dashboard, acme, side):
    bomb = with_size_claimed(image_bytes("PNG", size=(10, 10)), side, side)
    response = upload(dashboard, bomb)
    assert response.status_code == 400
    assert "too large in pixels" in response.text
    assert logos_of(acme) == []


def test_a_10_mb_upload_is_a_413_page_and_stores_nothing(dashboard, acme):
    response = upload(dashboard, b"\x00" * (10 * 1024 * 1024))
    assert response.status_code == 413
    assert "larger than we accept" in response.text
    assert logos_of(acme) == []


def test_an_upload_without_csrf_is_refused(dashboard, acme):
    response = dashboard.post(
        "/dashboard/branding/logo",
        data={"logo": (io.BytesIO(image_bytes("PNG")), "logo.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert logos_of(acme) == []


def test_a_merchant_cannot_reach_another_merchants_logo(dashboard, client_for, make_tenant, acme):
    other = make_tenant("other", name="Other Shop")
    merchant_user_for(other, "other@example.com")
    second = client_for(None)
    assert log_in(second, "other@example.com").status_code == 302
    upload(second, image_bytes("PNG"))
    [theirs] = logos_of(other)
    assert client_for("other").get(theirs.path).status_code == 200
    assert client_for("acme").get(theirs.path).status_code == 404  # not under acme's host
    own_dashboard_url = f"/dashboard/branding/logo/{theirs.content_hash}.png"
    assert second.get(own_dashboard_url).status_code == 200
    assert dashboard.get(own_dashboard_url).status_code == 404
    assert logos_of(acme) == [] and fresh(acme).logo_url is None
