"""Settings come from the environment; production refuses unsafe defaults with one clear line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from config import DEV_SECRET_KEY, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def env(monkeypatch):
    for key in list(os.environ):
        if key in {"BILLFOLD_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "PLATFORM_DOMAIN",
                   "BILLFOLD_ENCRYPTION_KEYS", "MAIL_PORT", "STRIPE_API_BASE", "MAIL_CAPTURE",
                   "CELERY_EAGER", "MAIL_SUPPRESS_SEND"}:  # fmt: skip
            monkeypatch.delenv(key)
    return monkeypatch


def test_development_defaults_need_no_servers(env):
    env.setenv("BILLFOLD_ENV", "development")
    settings = load_config()
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert settings["CELERY_EAGER"] is True
    assert settings["RATELIMIT_STORAGE_URI"] == "memory://"
    assert settings["TRUSTED_HOSTS"][:2] == ["localhost", ".localhost"]
    assert settings["SESSION_COOKIE_DOMAIN"] is False
    assert settings["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_postgres_urls_use_psycopg2(env):
    env.setenv("BILLFOLD_ENV", "development")
    env.setenv("DATABASE_URL", "postgres://u@h/db")
    assert load_config()["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg2://u@h/db"


def test_production_refuses_the_development_secret(env):
    env.setenv("BILLFOLD_ENV", "production")
    env.setenv("DATABASE_URL", "postgresql://u@h/db")
    env.setenv("REDIS_URL", "redis://h")
    env.setenv("BILLFOLD_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config()


def test_production_requires_encryption_keys(env):
    env.setenv("BILLFOLD_ENV", "production")
    env.setenv("DATABASE_URL", "postgresql://u@h/db")
    env.setenv("SECRET_KEY", "x" * 40)
    with pytest.raises(ConfigError, match="BILLFOLD_ENCRYPTION_KEYS"):
        load_config()


def test_production_with_real_settings_is_secure(env):
    env.setenv("BILLFOLD_ENV", "production")
    env.setenv("DATABASE_URL", "postgresql://u@h/db")
    env.setenv("REDIS_URL", "redis://h")
    env.setenv("SECRET_KEY", "x" * 40)
    env.setenv("PLATFORM_DOMAIN", "billfold.example.com")
    env.setenv("BILLFOLD_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    settings = load_config()
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["HSTS"] is True
    assert settings["PREFERRED_URL_SCHEME"] == "https"
    assert settings["TRUSTED_HOSTS"][:2] == ["billfold.example.com", ".billfold.example.com"]


@pytest.fixture
def production(env):
    for name, value in {
        "BILLFOLD_ENV": "production",
        "DATABASE_URL": "postgresql://u@h/db",
        "REDIS_URL": "redis://h",
        "SECRET_KEY": "x" * 40,
        "PLATFORM_DOMAIN": "billfold.example.com",
        "BILLFOLD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }.items():
        env.setenv(name, value)
    return env


@pytest.mark.parametrize("name", ["MAIL_CAPTURE", "CELERY_EAGER", "MAIL_SUPPRESS_SEND"])
def test_production_refuses_development_conveniences(production, name):
    production.setenv(name, "true")
    with pytest.raises(ConfigError, match=f"{name} must be off in production"):
        load_config()


def test_production_requires_the_platform_domain(production):
    production.delenv("PLATFORM_DOMAIN")
    with pytest.raises(ConfigError, match="PLATFORM_DOMAIN is required"):
        load_config()


def test_production_settings_may_come_as_overrides(production):
    production.delenv("PLATFORM_DOMAIN")
    production.delenv("REDIS_URL")
    settings = load_config({"PLATFORM_DOMAIN": "billfold.example.com", "REDIS_URL": "redis://h"})
    assert settings["CELERY_EAGER"] is False  # follows the REDIS_URL given as an override
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://h"
    assert settings["TRUSTED_HOSTS"][:2] == ["billfold.example.com", ".billfold.example.com"]


def test_the_demo_mailbox_does_not_exist_in_production(production):
    # In a process of its own: create_app() sets process-wide state (keyring, default Celery app).
    probe = (
        "from app.factory import create_app; app = create_app(); "
        "print(sorted(r.rule for r in app.url_map.iter_rules() if r.rule.startswith('/dev')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env=dict(os.environ),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MAIL_PORT", "twenty-five", "MAIL_PORT must be a whole number"),
        ("BILLFOLD_ENCRYPTION_KEYS", "short", "Fernet keys"),
        ("BILLFOLD_ENV", "staging", "BILLFOLD_ENV must be one of"),
        ("PLATFORM_DOMAIN", "http://x/y", "PLATFORM_DOMAIN must be a host name"),
    ],
)
def test_broken_values_give_one_readable_line(env, name, value, message):
    env.setenv("BILLFOLD_ENV", "development")
    env.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_config()


def test_a_command_with_broken_config_exits_nonzero_without_traceback(env):
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "tenants", "list"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "BILLFOLD_ENV": "development", "MAIL_PORT": "twenty-five"},
    )  # fmt: skip
    assert result.returncode != 0
    assert "configuration error: MAIL_PORT must be a whole number" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unset_environment_is_production(production):
    production.delenv("BILLFOLD_ENV")
    settings = load_config()
    assert settings["ENV_NAME"] == "production"
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["PREFERRED_URL_SCHEME"] == "https"
    production.setenv("SECRET_KEY", DEV_SECRET_KEY)
    with pytest.raises(ConfigError, match="SECRET_KEY must be set.*BILLFOLD_ENV is unset"):
        load_config()


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "flask", "--app", "wsgi", "tenants", "list"],
        ["-m", "celery", "-A", "worker.app", "beat"],  # as the Procfile's workers start
    ],
)
def test_a_command_without_environment_or_settings_stops_with_one_line(command):
    """A plain command on a fresh machine: production, refused in one line."""
    result = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env={"PATH": os.environ["PATH"]},
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "billfold: configuration error: DATABASE_URL is required in production "
        "(BILLFOLD_ENV is unset, which means production; BILLFOLD_ENV=development runs it locally)"
    ]


def generated_keys() -> dict[str, str]:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "keys", "generate"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env={"PATH": os.environ["PATH"]},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Keep both secret" in result.stderr  # advice on stderr, settings alone on stdout
    lines = result.stdout.strip().splitlines()
    assert [line.split("=", 1)[0] for line in lines] == ["SECRET_KEY", "BILLFOLD_ENCRYPTION_KEYS"]
    return dict(line.split("=", 1) for line in lines)


def test_keys_generate_prints_settings_production_accepts_before_any_configuration(production):
    # Run with no settings at all, as on a fresh machine where the app itself cannot start yet.
    first, second = generated_keys(), generated_keys()
    assert first["SECRET_KEY"] != second["SECRET_KEY"]
    assert first["BILLFOLD_ENCRYPTION_KEYS"] != second["BILLFOLD_ENCRYPTION_KEYS"]
    for name, value in first.items():
        assert value.strip() == value and " " not in value and "#" not in value
        production.setenv(name, value)
    settings = load_config()
    assert settings["SECRET_KEY"] == first["SECRET_KEY"]
    secret = Fernet(settings["BILLFOLD_ENCRYPTION_KEYS"][0]).encrypt(b"rk_live_x")
    assert Fernet(first["BILLFOLD_ENCRYPTION_KEYS"]).decrypt(secret) == b"rk_live_x"
