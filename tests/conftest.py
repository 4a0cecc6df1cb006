"""Test harness: real PostgreSQL and Redis, rolled-back transactions, factories, worker, SMTP."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import redis
from flask.testing import FlaskClient

from stripe_emulator.launcher import DEFAULT_SETTLEMENT_SECONDS, EmulatorError, StripeEmulator
from tests.support.database import rebuild_schema, rolled_back_session, truncate_all
from tests.support.factories import make_tenant_factory
from tests.support.late_services import LateServices
from tests.support.live_server import LiveServer
from tests.support.local_services.processes import free_port
from tests.support.local_services.worker import CeleryWorker
from tests.support.probe_model import create_probe_table
from tests.support.services import SessionDatabase, session_database, session_redis
from tests.support.settings import ARTIFACTS_DIR, PLATFORM_DOMAIN
from tests.support.smtp_sink import SmtpSink
from tests.support.tls import TlsSite

ROOT = Path(__file__).resolve().parents[1]
PLATFORM_STRIPE_KEY = "sk_test_billfold_platform"
CONNECT_WEBHOOK_SECRET = "whsec_billfold_connect_test"
CONNECT_CLIENT_ID = "ca_billfold_connect_test"
APP_CLIENT_ID = "ca_billfold_app_test"


@pytest.fixture(scope="session")
def database() -> SessionDatabase:
    """The session's own PostgreSQL (or TEST_DATABASE_URL's), stopped at the end."""
    with session_database() as session_db:
        yield session_db


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The session's own Redis (or TEST_REDIS_URL's database, emptied), stopped at the end."""
    with session_redis() as url:
        yield url


@pytest.fixture(scope="session")
def late_services() -> LateServices:
    return LateServices()


@pytest.fixture(scope="session")
def smtp_sink(late_services):
    """A real SMTP server, started for the first test that asks for it; the app mails it from
    then on (before, its emails are refused: nothing listens on the port it has)."""
    sink = SmtpSink().start()
    late_services.add({"MAIL_PORT": str(sink.port)})
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def stripe_emulator(late_services):
    """The patched localstripe (stripe_emulator), one subprocess, started for the first test
    that asks for it; the app speaks to it from then on (before, Stripe calls fail at once:
    tests never reach the real Stripe)."""
    with StripeEmulator().start(port=0) as emulator:
        late_services.add(
            {
                "STRIPE_API_BASE": emulator.url,
                "STRIPE_JS_URL": emulator.js_url,
                "STRIPE_CONNECT_OAUTH_BASE": emulator.url,
                "STRIPE_APPS_OAUTH_BASE": emulator.url,
            }
        )
        yield emulator


@pytest.fixture
def bank_settlement(stripe_emulator):
    """Set how many seconds banks take to answer a SEPA debit; the default is back afterwards."""
    yield stripe_emulator.set_settlement_delay
    stripe_emulator.set_settlement_delay(DEFAULT_SETTLEMENT_SECONDS)


@pytest.fixture(scope="session")
def app_env(database, redis_url) -> dict[str, str]:
    """The environment the app runs with under test, before any SMTP sink or emulator."""
    return {
        "BILLFOLD_ENV": "testing",
        "DATABASE_URL": database.app_url,
        "REDIS_URL": redis_url,
        "PLATFORM_DOMAIN": PLATFORM_DOMAIN,
        "SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(free_port()),  # nothing listens there until smtp_sink starts
        "MAIL_DEFAULT_SENDER": "Billfold <no-reply@billfold.test>",
        "RATELIMIT_ENABLED": "true",
        "STRIPE_SECRET_KEY": PLATFORM_STRIPE_KEY,
        "STRIPE_PUBLISHABLE_KEY": "pk_test_billfold",
        "STRIPE_WEBHOOK_SECRET": CONNECT_WEBHOOK_SECRET,
        "STRIPE_CONNECT_CLIENT_ID": CONNECT_CLIENT_ID,
        "STRIPE_APP_CLIENT_ID": APP_CLIENT_ID,
        # Stripe's consent pages are the emulator's once it runs; before, nothing answers here.
        "STRIPE_CONNECT_OAUTH_BASE": f"http://127.0.0.1:{free_port()}",
        "STRIPE_APPS_OAUTH_BASE": f"http://127.0.0.1:{free_port()}",
        # Event retries in test time: 3, after 0.1-0.2, 0.2-0.4, 0.4-0.8 s (production: 8 from 2 s)
        "STRIPE_EVENT_MAX_RETRIES": "3",
        "STRIPE_EVENT_RETRY_BASE_MS": "200",
    }


@pytest.fixture(scope="session")
def service_env(app_env, late_services, smtp_sink, stripe_emulator) -> dict[str, str]:
    """The environment of a subprocess that serves or works for the app (gunicorn, a worker):
    it may send email and call Stripe, so both are running."""
    return {**app_env, **late_services.settings}


@pytest.fixture(scope="session")
def app(app_env, database, late_services):
    """The app on the session's database and Redis. Only what a test asks for runs besides:
    the SMTP sink and the Stripe emulator start with the first test that needs them."""
    os.environ.update(app_env)
    from app.factory import create_app

    # Tasks run eagerly inside the test's transaction unless a test asks for the real worker.
    flask_app = create_app({"CELERY_EAGER": True, "TESTING": True})
    flask_app.extensions["celery"].conf.task_always_eager = True
    late_services.attach(flask_app)
    rebuild_schema(flask_app, database)
    create_probe_table(database)
    return flask_app


@pytest.fixture
def db_session(app):
    with rolled_back_session(app) as session:
        yield session


@pytest.fixture
def committed(app, database):
    """For tests whose rows must be visible to other processes; every table is emptied after."""
    with app.app_context():
        yield
    truncate_all(app, database)


@pytest.fixture
def make_tenant(app):
    return make_tenant_factory()


class HostClient(FlaskClient):
    """A test client that speaks to one host: the platform or a tenant's subdomain."""

    host = PLATFORM_DOMAIN
    scheme = "http"

    def open(self, *args, **kwargs):
        if args and isinstance(args[0], str):
            kwargs.setdefault("base_url", f"{self.scheme}://{self.host}")
        # A fresh app context per request, as in production: nothing in `g` (the logged-in
        # user, the tenant) survives from one request to the next.
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client_for(app):
    """client_for("acme") talks to acme.<platform>; client_for(None) to the platform itself;
    scheme="https" as a browser on the production site does."""

    def make(subdomain: str | None, scheme: str = "http") -> HostClient:
        client = HostClient(app, app.response_class, use_cookies=True)
        client.host = f"{subdomain}.{PLATFORM_DOMAIN}" if subdomain else PLATFORM_DOMAIN
        client.scheme = scheme
        return client

    return make


@pytest.fixture(scope="session")
def tls_site(tmp_path_factory) -> TlsSite:
    """The HTTPS site's name, port and throwaway certificate; tls_live_server serves it."""
    return TlsSite.create(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def worker_process(app, service_env, tls_site):
    # Emailed links point at the HTTPS site, as production's do; plain-HTTP tests use their path.
    worker = CeleryWorker(
        {**service_env, **tls_site.link_env}, Path(ARTIFACTS_DIR) / "worker.log", name="tests"
    )
    worker.start(app.extensions["celery"])
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def live_server(app, service_env, stripe_emulator):
    """gunicorn serving the app (tasks via Redis); the emulator's Connect webhooks aim at it."""
    server = LiveServer(service_env, Path(ARTIFACTS_DIR) / "gunicorn.log").start()
    stripe_emulator.register_webhook(
        "billfold-connect",
        f"{server.url}/webhooks/stripe/connect",
        CONNECT_WEBHOOK_SECRET,
        connect=True,
    )
    yield server
    try:
        stripe_emulator.unregister_webhook("billfold-connect")
    finally:
        server.stop()  # whatever happened above: never leave gunicorn running


@pytest.fixture(scope="session")
def tls_live_server(app, service_env, tls_site):
    """gunicorn serving the app over HTTPS with production's secure cookies and https links."""
    server = LiveServer(service_env, Path(ARTIFACTS_DIR) / "gunicorn-https.log", tls=tls_site)
    yield server.start()
    server.stop()


@pytest.fixture
def tasks_via_redis(app):
    """Tasks go through Redis, as in production, instead of running eagerly inside the test's
    transaction; afterwards they run eagerly again and any no worker took are dropped."""
    celery_app = app.extensions["celery"]
    celery_app.conf.task_always_eager = False
    yield celery_app
    celery_app.conf.task_always_eager = True
    celery_app.control.purge()
    # The drains those tasks stood for will never run: their tenants' flags go with them.
    flags = redis.Redis.from_url(app.config["REDIS_URL"])
    for key in flags.scan_iter("billfold:events-drain:*"):
        flags.delete(key)


@pytest.fixture
def real_worker(tasks_via_redis, worker_process, committed):
    """Tasks run in the session's worker subprocess; the test's rows are committed for it."""
    return worker_process


CONNECT_ENDPOINT_ID = "billfold-connect"  # as registered by the live_server fixture


@pytest.fixture
def webhooks_paused(request, stripe_emulator):
    """The emulator delivers no Connect webhooks during the test: every event is 'missed'.

    Tests that commit a connected tenant use this so that only the events they store
    themselves are processed. The endpoint is registered again afterwards.
    """
    try:
        stripe_emulator.unregister_webhook(CONNECT_ENDPOINT_ID)
    except EmulatorError:
        server = None  # the live server has not been started: nothing is delivered anyway
    else:
        server = request.getfixturevalue("live_server")  # running: it registered the endpoint
    yield
    if server is not None:
        stripe_emulator.register_webhook(
            CONNECT_ENDPOINT_ID,
            f"{server.url}/webhooks/stripe/connect",
            CONNECT_WEBHOOK_SECRET,
            connect=True,
        )
