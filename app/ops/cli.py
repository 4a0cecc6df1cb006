"""`flask operators ...`: make, remove and list the platform's operators. An operator chooses a
password through the one-time link `create` prints and enrols an authenticator at first sign-in."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.extensions import db
from app.ops.accounts import (
    SETUP_LINK_HOURS,
    OperatorExists,
    all_operators,
    create_operator,
    remove_operator,
)

operators_cli = AppGroup("operators", help="Manage the platform's operators (/ops).")


def _setup_url(raw: str) -> str:
    config = current_app.config
    return f"{config['PREFERRED_URL_SCHEME']}://{config['PLATFORM_DOMAIN']}/ops/setup/{raw}"


@operators_cli.command("create")
@click.argument("email")
def create(email: str) -> None:
    """Make an operator and print their one-time setup link."""
    try:
        operator, raw = create_operator(email)
    except (OperatorExists, ValueError) as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(
        f"Operator {operator.email} created. Send them this link (one use, "
        f"{SETUP_LINK_HOURS} hours):"
    )
    click.echo(_setup_url(raw))


@operators_cli.command("remove")
@click.argument("email")
def remove(email: str) -> None:
    """Remove an operator; their sessions end at once. The audit log keeps their entries."""
    operator = remove_operator(email)
    if operator is None:
        raise click.ClickException(f"no operator with the address {email}")
    db.session.commit()
    click.echo(f"Operator {operator.email} removed.")


@operators_cli.command("list")
def list_operators() -> None:
    """Every operator, whether they are set up, and their last sign-in."""
    operators = all_operators()
    if not operators:
        click.echo("No operators. Make one with: flask operators create EMAIL")
    for operator in operators:
        if operator.password_hash is None:
            state = "setup link not used yet"
        elif not operator.enrolled:
            state = "authenticator not enrolled"
        else:
            state = "active"
        last = (
            operator.last_login_at.strftime("%Y-%m-%d %H:%M UTC")
            if operator.last_login_at
            else "never"
        )
        click.echo(f"{operator.email:<40} {state:<28} last sign-in: {last}")
