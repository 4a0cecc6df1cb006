"""Tenancy: Tenant model, host resolution, automatic query scoping, credentials, Stripe client.

A lower layer: nothing here imports views, tasks or the factory (docs/architecture.md).
"""

from flask import Flask

from tenants.crypto import configure_keyring
from tenants.resolution import init_resolution
from tenants.rls import install_rls_hooks
from tenants.scoping import install_scoping_hooks


def init_app(app: Flask) -> None:
    configure_keyring(app.config["BILLFOLD_ENCRYPTION_KEYS"], app.config["SECRET_KEY"])
    install_scoping_hooks()
    install_rls_hooks()
    init_resolution(app)
