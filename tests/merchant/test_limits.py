"""Rate limits on sign-up, sign-in and reset: a script is stopped with a friendly 429, and a
stranger's attempts from elsewhere do not lock the owner out."""

from tests.merchant.conftest import PASSWORD, sign_up, signup_fields
from tests.support.portal_client import csrf_from

STRANGER = {"REMOTE_ADDR": "203.0.113.7"}
OWNER = {"REMOTE_ADDR": "198.51.100.20"}


def _post(client, path: str, data: dict, environ: dict):
    page = client.get(path, environ_base=environ)
    return client.post(
        path, data={"csrf_token": csrf_from(page.text), **data}, environ_base=environ
    )


def test_wrong_passwords_are_limited_per_network_without_locking_the_owner_out(
    platform, smtp_sink, client_for
):
    sign_up(platform)
    stranger = client_for(None)
    wrong = {"email": "owner@example.com", "password": "not-the-password"}
    for _ in range(10):
        assert _post(stranger, "/dashboard/login", wrong, STRANGER).status_code == 400
    limited = _post(stranger, "/dashboard/login", wrong, STRANGER)
    assert limited.status_code == 429
    assert "Slow down" in limited.text and "You can try again in" in limited.text
    assert int(limited.headers["Retry-After"]) > 0
    owner = client_for(None)
    right = {"email": "owner@example.com", "password": PASSWORD}
    assert _post(owner, "/dashboard/login", right, OWNER).status_code == 302


def test_reset_emails_are_limited_per_address_and_network(platform, smtp_sink, client_for):
    sign_up(platform)
    stranger = client_for(None)
    for _ in range(5):
        response = _post(stranger, "/dashboard/forgot", {"email": "owner@example.com"}, STRANGER)
        assert response.status_code == 302
    assert (
        _post(stranger, "/dashboard/forgot", {"email": "owner@example.com"}, STRANGER).status_code
        == 429
    )
    # The owner, elsewhere, still gets a reset email.
    owner = client_for(None)
    assert (
        _post(owner, "/dashboard/forgot", {"email": "owner@example.com"}, OWNER).status_code == 302
    )


def test_sign_ups_are_limited_per_network(platform):
    for n in range(5):
        fields = signup_fields(email=f"owner{n}@example.com", subdomain=f"shop{n}")
        assert _post(platform, "/dashboard/signup", fields, STRANGER).status_code == 302
    fields = signup_fields(email="owner9@example.com", subdomain="shop9")
    assert _post(platform, "/dashboard/signup", fields, STRANGER).status_code == 429
    assert _post(platform, "/dashboard/signup", fields, OWNER).status_code == 302


def test_guessing_the_current_password_from_a_signed_in_session_is_limited(platform, smtp_sink):
    from tests.merchant.conftest import signed_up_and_verified

    signed_up_and_verified(platform, smtp_sink)
    guess = {"current_password": "guess-guess-guess", "new_password": "lantern-quarry-mosaic"}
    for _ in range(10):
        assert _post(platform, "/dashboard/settings/password", guess, OWNER).status_code == 400
    assert _post(platform, "/dashboard/settings/password", guess, OWNER).status_code == 429
