"""Every setting of Billfold, read from environment variables in one place."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from sqlalchemy.engine import make_url

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

# The development secret is public by design: production refuses to start with it.
DEV_SECRET_KEY = "billfold-dev-secret-not-for-production"  # noqa: S105


class ConfigError(RuntimeError):
    """A setting is missing or invalid; the message is one readable line."""


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None


def _per_tenant_ints(name: str) -> dict[str, int]:
    """`acme=50,shop=10`: a whole number per tenant subdomain."""
    figures = {}
    for entry in _list(name):
        subdomain, _, figure = entry.partition("=")
        if not subdomain.strip() or not figure.strip().isdigit() or int(figure) < 1:
            raise ConfigError(f"{name} takes subdomain=number entries, not {entry!r}")
        figures[subdomain.strip()] = int(figure)
    return figures


def _str(name: str, default: str | None = None) -> str | None:
    raw = os.environ.get(name)
    return default if raw is None or raw.strip() == "" else raw.strip()


def _list(name: str) -> list[str]:
    return [part.strip() for part in (os.environ.get(name) or "").split(",") if part.strip()]


def derived_dev_fernet_key(secret_key: str) -> str:
    """A stable Fernet key derived from the secret, so dev data survives restarts."""
    digest = hashlib.sha256(b"billfold-encryption:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def _database_url(url: str | None) -> str | None:
    if url is None:
        return None
    for prefix in ("postgres://", "postgresql://"):
        # SQLAlchemy 2.1 defaults to psycopg 3; we ship psycopg2. Heroku-style URLs say postgres://.
        if url.startswith(prefix):
            url = "postgresql+psycopg2://" + url[len(prefix) :]
    return url


class Config:
    """Settings shared by every environment; subclasses adjust the defaults."""

    ENV_NAME = "base"
    DEBUG = False
    TESTING = False

    def __init__(self) -> None:
        self.DEBUG = type(self).DEBUG
        self.TESTING = type(self).TESTING
        self.SECRET_KEY = _str("SECRET_KEY", DEV_SECRET_KEY)
        self.SQLALCHEMY_DATABASE_URI = _database_url(
            _str("DATABASE_URL") or self.default_database_url()
        )
        # Migrations run as the tables' owner; the app connects as DATABASE_URL's role, which
        # should own nothing, so PostgreSQL's row-level security binds it (tenants/rls.py).
        self.DATABASE_OWNER_URL = _database_url(_str("DATABASE_OWNER_URL"))
        # Connections are pinged after an idle second, not at every checkout (app/pool_ping.py).
        self.SQLALCHEMY_ENGINE_OPTIONS = {}
        self.REDIS_URL = _str("REDIS_URL")
        self.PLATFORM_DOMAIN = (
            _str("PLATFORM_DOMAIN", self.default_platform_domain()) or ""
        ).lower()
        self.PREFERRED_URL_SCHEME = _str("PREFERRED_URL_SCHEME", self.default_scheme())

        self.STRIPE_SECRET_KEY = _str("STRIPE_SECRET_KEY")
        self.STRIPE_PUBLISHABLE_KEY = _str("STRIPE_PUBLISHABLE_KEY")
        self.STRIPE_API_BASE = _str("STRIPE_API_BASE")
        self.STRIPE_JS_URL = _str("STRIPE_JS_URL", "https://js.stripe.com/v3/")
        # Where merchants connect an existing Stripe account (app/stripe_connection/): Connect
        # OAuth's pages and token endpoint, the Stripe App's install page (its token endpoint is
        # on the API host, STRIPE_API_BASE), and the two OAuth client ids.
        self.STRIPE_CONNECT_OAUTH_BASE = _str(
            "STRIPE_CONNECT_OAUTH_BASE", "https://connect.stripe.com"
        )
        self.STRIPE_APPS_OAUTH_BASE = _str(
            "STRIPE_APPS_OAUTH_BASE", "https://marketplace.stripe.com"
        )
        self.STRIPE_CONNECT_CLIENT_ID = _str("STRIPE_CONNECT_CLIENT_ID")
        self.STRIPE_APP_CLIENT_ID = _str("STRIPE_APP_CLIENT_ID")
        self.STRIPE_WEBHOOK_SECRET = _str("STRIPE_WEBHOOK_SECRET")
        self.STRIPE_LIVEMODE = _bool("STRIPE_LIVEMODE", False)
        # Processing a Stripe event: retries after a failure, waiting ~base x 2^n (capped).
        self.STRIPE_EVENT_MAX_RETRIES = _int("STRIPE_EVENT_MAX_RETRIES", 8)
        self.STRIPE_EVENT_RETRY_BASE_MS = _int("STRIPE_EVENT_RETRY_BASE_MS", 2000)
        # Bulk work's share of a Stripe account's ~100 requests/s (the merchant's own
        # integration needs the rest), across all workers; "acme=50,shop=10" per tenant.
        self.STRIPE_BULK_REQUESTS_PER_SECOND = _int("STRIPE_BULK_REQUESTS_PER_SECOND", 20)
        self.STRIPE_BULK_REQUESTS_PER_SECOND_BY_TENANT = _per_tenant_ints(
            "STRIPE_BULK_REQUESTS_PER_SECOND_BY_TENANT"
        )

        self.MAIL_SERVER = _str("MAIL_SERVER", "localhost")
        self.MAIL_PORT = _int("MAIL_PORT", 25)
        self.MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
        self.MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
        self.MAIL_USERNAME = _str("MAIL_USERNAME")
        self.MAIL_PASSWORD = _str("MAIL_PASSWORD")
        self.MAIL_DEFAULT_SENDER = _str("MAIL_DEFAULT_SENDER", "Billfold <no-reply@localhost>")
        self.MAIL_SUPPRESS_SEND = _bool("MAIL_SUPPRESS_SEND", False)
        # The local demo keeps emails in the database and shows them at /dev/mailbox.
        self.MAIL_CAPTURE = _bool("MAIL_CAPTURE", False)

        keys = _list("BILLFOLD_ENCRYPTION_KEYS")
        self.BILLFOLD_ENCRYPTION_KEYS = keys or self.default_encryption_keys()

        self.PROXY_FIX_HOPS = _int("PROXY_FIX_HOPS", 0)
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", self.default_secure_cookies())
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.SESSION_COOKIE_HTTPONLY = True
        # A session ends 12 hours after sign-in whatever happens, and after an hour unused.
        self.PERMANENT_SESSION_LIFETIME = _int("SESSION_LIFETIME_SECONDS", 12 * 3600)
        self.SESSION_IDLE_SECONDS = _int("SESSION_IDLE_SECONDS", 3600)
        # Both limits are the server's session row's to enforce; the cookie only needs to last
        # as long, from sign-in: re-signing it on every response would change nothing.
        self.SESSION_REFRESH_EACH_REQUEST = False
        # An operator's session (/ops) is shorter: it ends after 15 minutes unused, 8 hours in all.
        self.OPS_SESSION_IDLE_SECONDS = _int("OPS_SESSION_IDLE_SECONDS", 15 * 60)
        self.OPS_SESSION_LIFETIME_SECONDS = _int("OPS_SESSION_LIFETIME_SECONDS", 8 * 3600)
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        # Host-only cookies: a session of acme.example.com is never sent to beta.example.com.
        self.SESSION_COOKIE_DOMAIN = False
        self.HSTS = self.SESSION_COOKIE_SECURE
        self.WTF_CSRF_TIME_LIMIT = 3600
        self.MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 1024 * 1024)

        self.CELERY_EAGER = _bool("CELERY_EAGER", self.REDIS_URL is None)
        self.LOG_FORMAT = _str("LOG_FORMAT", "json" if self.ENV_NAME == "production" else "text")
        # /readyz fails when no worker has written a heartbeat for this long (they beat every 10 s).
        self.WORKER_HEARTBEAT_MAX_AGE_SECONDS = _int("WORKER_HEARTBEAT_MAX_AGE_SECONDS", 60)
        # /metrics answers a scrape bearing this token, or from these networks; nobody else.
        self.METRICS_TOKEN = _str("METRICS_TOKEN")
        self.METRICS_ALLOWED_NETWORKS = _list("METRICS_ALLOWED_NETWORKS") or [
            "127.0.0.1/32",
            "::1/128",
        ]
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
        self.TRUSTED_HOSTS = self.trusted_hosts()

    # Defaults that differ between environments.
    def default_platform_domain(self) -> str | None:
        return "localhost:5000"

    def default_database_url(self) -> str:
        return f"sqlite:///{INSTANCE_DIR / 'billfold.db'}"

    def default_scheme(self) -> str:
        return "http"

    def default_secure_cookies(self) -> bool:
        return False

    def default_encryption_keys(self) -> list[str]:
        return [derived_dev_fernet_key(self.SECRET_KEY)]

    @property
    def platform_host(self) -> str:
        """The platform domain without its port: what Host headers are compared to."""
        return self.PLATFORM_DOMAIN.rsplit(":", 1)[0] if self.PLATFORM_DOMAIN else ""

    def trusted_hosts(self) -> list[str]:
        # Werkzeug compares without the port; a leading dot admits every subdomain.
        host = self.platform_host
        return [host, "." + host] + _list("EXTRA_TRUSTED_HOSTS")

    def validate(self) -> None:
        """Refuse to start on settings that would misbehave later."""
        if not self.PLATFORM_DOMAIN or "/" in self.PLATFORM_DOMAIN:
            raise ConfigError("PLATFORM_DOMAIN must be a host name such as billfold.example.com")
        for key in self.BILLFOLD_ENCRYPTION_KEYS:
            if len(key) != 44:
                raise ConfigError("BILLFOLD_ENCRYPTION_KEYS must hold Fernet keys (44 characters)")
            try:
                base64.urlsafe_b64decode(key.encode())
            except ValueError:
                raise ConfigError(
                    "BILLFOLD_ENCRYPTION_KEYS holds a key that is not base64"
                ) from None

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = False  # the reloader and debugger are opt-in with `flask run --debug`


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True

    def default_database_url(self) -> str:
        return "postgresql://postgres@127.0.0.1:5432/test"


class ProductionConfig(Config):
    ENV_NAME = "production"

    def default_scheme(self) -> str:
        return "https"

    def default_secure_cookies(self) -> bool:
        return True

    def default_platform_domain(self) -> str | None:
        return None  # no guess: cookies, links and trusted hosts all depend on it

    def default_database_url(self) -> str:
        raise ConfigError("DATABASE_URL is required in production")

    def default_encryption_keys(self) -> list[str]:
        raise ConfigError("BILLFOLD_ENCRYPTION_KEYS is required in production")

    def validate(self) -> None:
        if self.SECRET_KEY == DEV_SECRET_KEY or len(self.SECRET_KEY) < 32:
            raise ConfigError("SECRET_KEY must be set to a random value of 32+ characters")
        if derived_dev_fernet_key(DEV_SECRET_KEY) in self.BILLFOLD_ENCRYPTION_KEYS:
            raise ConfigError("BILLFOLD_ENCRYPTION_KEYS must not contain the development key")
        if self.REDIS_URL is None:
            raise ConfigError("REDIS_URL is required in production")
        if not self.PLATFORM_DOMAIN:
            raise ConfigError(
                "PLATFORM_DOMAIN is required in production (e.g. billing.example.com)"
            )
        # Development conveniences that would be holes in production: captured emails (login
        # links kept for a mailbox page), tasks run inside the request (a login's answer would
        # take longer for a known address), emails silently not sent.
        for name in ("MAIL_CAPTURE", "CELERY_EAGER", "MAIL_SUPPRESS_SEND"):
            if getattr(self, name):
                raise ConfigError(f"{name} must be off in production")
        super().validate()


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(overrides: dict | None = None) -> dict:
    """Build the settings for BILLFOLD_ENV, apply overrides, validate, return a dict.

    Unset, BILLFOLD_ENV means production: a deployment that forgets it fails closed (refusing
    the public secret, insecure cookies and http links); the demo and the tests say theirs.
    """
    chosen = (os.environ.get("BILLFOLD_ENV") or "").strip().lower()
    env = chosen or "production"
    if env not in CONFIGS:
        raise ConfigError(f"BILLFOLD_ENV must be one of {', '.join(CONFIGS)}, not {env!r}")
    try:
        config = _built_config(CONFIGS[env], overrides)
    except ConfigError as exc:
        if chosen:
            raise
        raise ConfigError(
            f"{exc} (BILLFOLD_ENV is unset, which means production; "
            "BILLFOLD_ENV=development runs it locally)"
        ) from None
    settings = config.as_dict()
    settings["ENV_NAME"] = config.ENV_NAME
    settings["PLATFORM_HOST"] = config.platform_host
    return settings


def _built_config(config_class: type[Config], overrides: dict | None) -> Config:
    config = config_class()
    for key, value in (overrides or {}).items():
        setattr(config, key, value)
    if overrides and "PLATFORM_DOMAIN" in overrides and "TRUSTED_HOSTS" not in overrides:
        config.TRUSTED_HOSTS = config.trusted_hosts()
    if overrides and "REDIS_URL" in overrides:  # what depends on it follows the override
        if "CELERY_EAGER" not in overrides:
            config.CELERY_EAGER = _bool("CELERY_EAGER", config.REDIS_URL is None)
        if "RATELIMIT_STORAGE_URI" not in overrides:
            config.RATELIMIT_STORAGE_URI = config.REDIS_URL or "memory://"
    if not (overrides and "SQLALCHEMY_ENGINE_OPTIONS" in overrides):
        config.SQLALCHEMY_ENGINE_OPTIONS = engine_options(config.SQLALCHEMY_DATABASE_URI)
    config.validate()
    return config


def engine_options(database_uri: str | None) -> dict:
    """The engine's options for the address the app ends up with (after any override). No
    `pool_pre_ping`: the app pings a connection only after it idled (app/pool_ping.py)."""
    options: dict = {}
    if (database_uri or "").startswith("postgresql"):
        # Every query of the app is short and reads an index, but the planner may cost one
        # high (a per-tenant subquery times a thousand tenants) and then JIT-compiles it
        # first: 230 ms of compiling for a 10 ms query. Compiling never pays off here. Added
        # to the address's own `options`, which connect_args would otherwise replace.
        given = make_url(database_uri).query.get("options") or ""
        given = given if isinstance(given, str) else " ".join(given)
        options["connect_args"] = {"options": f"{given} -c jit=off".strip()}
    return options
