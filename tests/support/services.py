"""Check that PostgreSQL and Redis answer; in CI a missing service fails the run."""

from __future__ import annotations

import psycopg2
import pytest
import redis

from tests.support.settings import IN_CI, TEST_DATABASE_URL, TEST_REDIS_URL


def _unavailable(what: str, exc: Exception) -> None:
    message = f"{what} is not reachable ({exc}); start it or set TEST_DATABASE_URL/TEST_REDIS_URL"
    if IN_CI:
        pytest.exit(message, returncode=3)
    pytest.skip(message, allow_module_level=True)


def require_postgres() -> None:
    try:
        psycopg2.connect(TEST_DATABASE_URL, connect_timeout=3).close()
    except psycopg2.OperationalError as exc:
        _unavailable("PostgreSQL", exc)


def require_redis() -> redis.Redis:
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        _unavailable("Redis", exc)
    return client
