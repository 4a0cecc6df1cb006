"""`flask keys generate`: fresh secrets for a new deployment's environment file.

A command of its own (a Flask CLI plugin, pyproject.toml), not of the app: it runs before
there is any configuration, when the app itself would refuse to start.
"""

from __future__ import annotations

import secrets

import click
from cryptography.fernet import Fernet


@click.group("keys", help="Secrets for the environment file.")
def keys_cli() -> None:
    pass


@keys_cli.command("generate")
def generate() -> None:
    """Print a new SECRET_KEY and BILLFOLD_ENCRYPTION_KEYS as lines of an environment file."""
    click.echo(f"SECRET_KEY={secrets.token_urlsafe(48)}")
    click.echo(f"BILLFOLD_ENCRYPTION_KEYS={Fernet.generate_key().decode()}")
    # On stderr, so `flask keys generate >> billfold.env` writes only the two settings.
    click.echo(
        "# Keep both secret. Losing BILLFOLD_ENCRYPTION_KEYS loses every stored Stripe "
        "credential; to rotate it, put a new key first and keep the old one after a comma.",
        err=True,
    )
