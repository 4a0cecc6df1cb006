"""The PostgreSQL database and Redis of a test session: servers of its own, started on free
ports and stopped at the end, so two runs on one machine never meet; or, when
TEST_DATABASE_URL / TEST_REDIS_URL are set (CI), the ones they name."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg2
import pytest
import redis
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from tests.support.local_services.postgres import PostgresCluster
from tests.support.local_services.redis_server import RedisServer
from tests.support.settings import IN_CI, TEST_APP_ROLE


def _unavailable(what: str, variable: str, exc: Exception) -> None:
    message = f"{what} is not reachable ({exc}); start it or unset {variable}"
    if IN_CI:
        pytest.exit(message, returncode=3)
    pytest.skip(message, allow_module_level=True)


@dataclass(frozen=True)
class SessionDatabase:
    """Built and emptied as `owner_url`'s superuser; the app connects as TEST_APP_ROLE."""

    owner_url: str

    @property
    def app_url(self) -> str:
        url = make_url(self.owner_url).set(username=TEST_APP_ROLE, password=None)
        return url.render_as_string(hide_password=False)

    @property
    def sqlalchemy_owner_url(self) -> str:
        return (
            make_url(self.owner_url)
            .set(drivername="postgresql+psycopg2")
            .render_as_string(hide_password=False)
        )

    def owner_engine(self) -> Engine:
        """The tables' owner: builds and empties the schema, nothing else."""
        return create_engine(self.sqlalchemy_owner_url, poolclass=NullPool)

    @contextmanager
    def sibling(self, prefix: str) -> Iterator[str]:
        """A new empty database on the same server (its URL, as the owner), dropped after."""
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        admin = make_url(self.owner_url).set(database="postgres")
        _autocommit(admin, f'CREATE DATABASE "{name}"')
        try:
            yield make_url(self.owner_url).set(database=name).render_as_string(hide_password=False)
        finally:
            _autocommit(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _autocommit(url, statement: str) -> None:
    connection = psycopg2.connect(url.render_as_string(hide_password=False))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


@contextmanager
def session_database() -> Iterator[SessionDatabase]:
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        try:
            psycopg2.connect(given, connect_timeout=3).close()
        except psycopg2.OperationalError as exc:
            _unavailable("PostgreSQL", "TEST_DATABASE_URL", exc)
        yield SessionDatabase(given)
        return
    with PostgresCluster() as cluster:
        yield SessionDatabase(cluster.create_database("billfold_test"))


@contextmanager
def session_redis() -> Iterator[str]:
    """The Redis URL, its database empty."""
    given = os.environ.get("TEST_REDIS_URL")
    if not given:
        with RedisServer() as server:
            yield server.url()
        return
    client = redis.Redis.from_url(given, socket_connect_timeout=3)
    try:
        client.flushdb()
    except redis.exceptions.ConnectionError as exc:
        _unavailable("Redis", "TEST_REDIS_URL", exc)
    finally:
        client.close()
    yield given
