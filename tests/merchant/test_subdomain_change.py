"""Moving the portal to another subdomain: checked, confirmed (old links stop working), safe
against someone taking it meanwhile."""

from app.extensions import db
from tenants.models import Tenant
from tests.merchant.conftest import signed_up_and_verified
from tests.support.portal_client import csrf_from
from tests.support.stripe_helpers import new_account_id


def _ask(platform, subdomain: str):
    page = platform.get("/dashboard/settings/subdomain")
    return platform.post(
        "/dashboard/settings/subdomain",
        data={"csrf_token": csrf_from(page.text), "subdomain": subdomain},
    )


def _confirm(platform, step):
    return platform.post(
        "/dashboard/settings/subdomain/confirm",
        data={"csrf_token": csrf_from(step.text), "subdomain": "orbit"},
    )


def test_moving_the_portal_asks_first_and_then_the_old_address_is_gone(
    platform, smtp_sink, client_for
):
    signed_up_and_verified(platform, smtp_sink, subdomain="rockets")
    Tenant.by_subdomain("rockets").connect_account(new_account_id())
    db.session.commit()
    platform.get("/dashboard")  # goes live
    assert client_for("rockets").get("/").status_code == 200

    step = _ask(platform, "orbit")
    assert step.status_code == 200
    assert "Old links stop working" in step.text
    assert "http://rockets.localhost/" in step.text and "http://orbit.localhost/" in step.text
    assert Tenant.by_subdomain("rockets") is not None  # nothing moved yet

    moved = _confirm(platform, step)
    assert moved.status_code == 302
    assert Tenant.by_subdomain("orbit") is not None
    assert client_for("rockets").get("/").status_code == 404
    assert client_for("orbit").get("/").status_code == 200
    assert "http://orbit.localhost/" in platform.get("/dashboard").text


def test_bad_new_subdomains_are_refused(platform, smtp_sink, make_tenant):
    signed_up_and_verified(platform, smtp_sink, subdomain="rockets")
    make_tenant("taken")
    for value, message in [
        ("taken", "taken is taken by another business"),
        ("www", "is reserved"),
        ("Orbit", "Use lowercase letters only"),
        ("örbit", "no accents"),
        ("o" * 64, "at most 63"),
        ("rockets", "your portal&#39;s address already"),
    ]:
        response = _ask(platform, value)
        assert response.status_code == 400, value
        assert message in response.text, value
    assert Tenant.by_subdomain("rockets") is not None


def test_a_subdomain_taken_between_the_two_steps_is_refused_plainly(
    platform, smtp_sink, make_tenant
):
    signed_up_and_verified(platform, smtp_sink, subdomain="rockets")
    step = _ask(platform, "orbit")
    make_tenant("orbit")  # someone else's sign-up wins meanwhile
    refused = _confirm(platform, step)
    assert refused.status_code == 400 and "orbit is taken by another business" in refused.text
    assert Tenant.by_subdomain("rockets") is not None


def test_the_confirm_step_needs_its_form_token(platform, smtp_sink):
    signed_up_and_verified(platform, smtp_sink, subdomain="rockets")
    response = platform.post("/dashboard/settings/subdomain/confirm", data={"subdomain": "orbit"})
    assert response.status_code == 400
    assert Tenant.by_subdomain("orbit") is None
