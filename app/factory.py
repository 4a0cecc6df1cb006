"""Billfold's application factory: extensions, tenancy, blueprints, Celery, error pages."""

from __future__ import annotations

import logging
import sqlite3

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

import tenants
from app import auth  # noqa: F401  (registers Flask-Login's user loader)
from app.billing import models as billing_models  # noqa: F401  (models known to Alembic)
from app.billing import tasks as billing_tasks  # noqa: F401  (tasks known to Celery)
from app.cli import tenants_cli
from app.commits import commit_request
from app.core.views import bp as core_bp
from app.demo.mailbox import bp as mailbox_bp
from app.emails import models as email_models  # noqa: F401
from app.errors import init_error_pages
from app.extensions import csrf, db, limiter, login_manager, mail, migrate
from app.log_context import init_logging
from app.merchant import models as merchant_models  # noqa: F401
from app.merchant import tasks as merchant_tasks  # noqa: F401
from app.merchant.views import bp as merchant_bp
from app.ops import models as ops_models  # noqa: F401
from app.ops.cli import operators_cli
from app.ops.console import console as console_bp
from app.ops.request_metrics import init_request_metrics
from app.ops.views import bp as ops_bp
from app.pool_ping import install_idle_ping
from app.portal import bp as portal_bp
from app.portal import models as portal_models  # noqa: F401
from app.portal import tasks as portal_tasks  # noqa: F401
from app.security import BillfoldRequest, init_security
from app.server_logs import install_log_redaction
from app.webhooks.views import bp as webhooks_bp
from config import INSTANCE_DIR, load_config
from tenants import app_tokens  # noqa: F401  (a Stripe App's tokens, known to Alembic)
from tenants import logos as logo_models  # noqa: F401
from tenants.crypto import render_migration_item
from worker import health  # noqa: F401  (the worker's heartbeat task)
from worker.celery_app import celery_init_app, register_renamed_tasks
from worker.dispatch import install_dispatch_hooks


class Billfold(Flask):
    """Flask, plus the commit rule's one request commit: a view that returns has its work
    committed (app/commits.py); one that raises has it rolled back by the error page."""

    request_class = BillfoldRequest

    def dispatch_request(self):
        response = super().dispatch_request()
        commit_request()
        return response


def _sqlite_for_threads(dbapi_connection, _record) -> None:
    """The demo's SQLite serves request threads and the tasks they run at once: in WAL mode a
    reader never blocks the writer, and a writer waits its turn instead of failing at once."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app from environment settings plus `overrides` (tests, scripts)."""
    app = Billfold(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=False)
    app.config.from_mapping(load_config(overrides))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:"):
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        if not event.contains(Engine, "connect", _sqlite_for_threads):
            event.listen(Engine, "connect", _sqlite_for_threads)
    init_logging(app)  # JSON lines with the request, tenant and task in production
    install_log_redaction()  # request paths in log lines may hold a sign-in token
    # stripe-python logs two INFO lines per API request: noise, and real cost at volume.
    logging.getLogger("stripe").setLevel(logging.WARNING)

    init_request_metrics(app)  # first: its timer starts before any other hook runs
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            install_idle_ping(engine)
    migrate.init_app(
        app, db, render_as_batch=True, compare_type=True, render_item=render_migration_item
    )
    login_manager.init_app(app)
    mail.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    tenants.init_app(app)
    init_security(app)
    init_error_pages(app)
    install_dispatch_hooks()

    register_renamed_tasks(celery_init_app(app))
    app.cli.add_command(tenants_cli)
    app.cli.add_command(operators_cli)
    app.register_blueprint(core_bp)
    app.register_blueprint(portal_bp)
    app.register_blueprint(merchant_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(console_bp)
    login_manager.login_view = "core.home"
    login_manager.blueprint_login_views = {
        "merchant": "merchant.login",
        "console": "console.login",
    }
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "warning"

    if app.config["ENV_NAME"] != "production":  # the demo's mailbox never exists there
        app.register_blueprint(mailbox_bp)

    return app
