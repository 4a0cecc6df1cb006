"""Stripe credentials are encrypted at rest, decrypt after a key rotation, and rotate forward."""

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from app.extensions import db
from tenants.crypto import CredentialError, Keyring, configure_keyring, keyring
from tenants.models import Tenant


@pytest.fixture
def restore_keyring(app):
    yield
    configure_keyring(app.config["BILLFOLD_ENCRYPTION_KEYS"], app.config["SECRET_KEY"])


def raw_column(tenant_id: int, column: str) -> str:
    return db.session.execute(
        text(f"SELECT {column} FROM tenants WHERE id = :id"), {"id": tenant_id}
    ).scalar_one()


def test_credentials_round_trip_and_are_not_stored_in_clear(db_session, make_tenant):
    tenant = make_tenant("enc", stripe_account="acct_secret123")
    tenant.connect_api_key("rk_test_abcdef", "whsec_xyz")
    tenant.stripe_account_id = "acct_secret123"
    db.session.commit()
    for column, plain in [
        ("stripe_api_key", "rk_test_abcdef"),
        ("stripe_webhook_secret", "whsec_xyz"),
        ("stripe_account_id", "acct_secret123"),
    ]:
        stored = raw_column(tenant.id, column)
        assert plain not in stored
        assert stored.startswith("gAAAA")  # a Fernet token
    db.session.expire_all()
    again = db.session.get(Tenant, tenant.id)
    assert again.stripe_api_key == "rk_test_abcdef"
    assert again.stripe_webhook_secret == "whsec_xyz"
    assert Tenant.by_stripe_account("acct_secret123").id == tenant.id
    assert Tenant.by_stripe_account("acct_other") is None


def test_key_rotation_old_rows_still_decrypt_then_move_to_new_key(
    db_session, make_tenant, app, restore_keyring, client_for
):
    old_key = app.config["BILLFOLD_ENCRYPTION_KEYS"][0]
    tenant = make_tenant("rot")
    tenant.connect_api_key("rk_test_rotate", "whsec_rotate")
    db.session.commit()
    before = raw_column(tenant.id, "stripe_api_key")

    new_key = Fernet.generate_key().decode()
    configure_keyring([new_key, old_key], app.config["SECRET_KEY"])
    db.session.expire_all()
    tenant = db.session.get(Tenant, tenant.id)
    assert tenant.stripe_api_key == "rk_test_rotate"  # old token, read with the old key

    runner = app.test_cli_runner()
    result = runner.invoke(args=["tenants", "rotate-keys"])
    assert result.exit_code == 0, result.output
    after = raw_column(tenant.id, "stripe_api_key")
    assert after != before

    configure_keyring([new_key], app.config["SECRET_KEY"])  # the old key retired
    db.session.expire_all()
    assert db.session.get(Tenant, tenant.id).stripe_api_key == "rk_test_rotate"


def test_a_token_under_an_unknown_key_fails_clearly():
    ring_a = Keyring([Fernet.generate_key().decode()], "s")
    ring_b = Keyring([Fernet.generate_key().decode()], "s")
    with pytest.raises(CredentialError, match="does not decrypt"):
        ring_b.decrypt(ring_a.encrypt("sk_live_x"))


def test_lookup_hash_is_keyed_and_stable(app):
    assert keyring().lookup_hash("acct_1") == keyring().lookup_hash("acct_1")
    assert keyring().lookup_hash("acct_1") != Keyring(
        [Fernet.generate_key().decode()], "other"
    ).lookup_hash("acct_1")
