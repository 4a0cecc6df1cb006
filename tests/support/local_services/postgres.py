"""A throwaway PostgreSQL cluster: initdb in a temporary folder, served on a free loopback port
with trust authentication, deleted when stopped. Nothing of the machine's own server is used."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import psycopg2

from tests.support.local_services.processes import (
    LaunchError,
    free_port,
    start_process_group,
    stop_process_group,
    wait_until_ready,
)

SUPERUSER = "postgres"
# A cluster that lives for one test run: durability costs time and buys nothing.
FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


def postgres_binary(name: str) -> str:
    """initdb and postgres are on PATH on some machines, only under Debian's versioned folder
    (/usr/lib/postgresql/<major>/bin) on others."""
    found = shutil.which(name)
    if found:
        return found
    versioned = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    if not versioned:
        raise LaunchError(f"{name} not found: install PostgreSQL's server (scripts/services.sh)")
    return versioned[-1]


def _run_as() -> str | None:
    """PostgreSQL refuses to run as root: as root, run it as an ordinary account."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise LaunchError("running as root and no 'postgres' or 'nobody' account to run PostgreSQL")


class PostgresCluster:
    """`with PostgresCluster() as cluster: cluster.create_database("x"); cluster.url("x")`."""

    def __init__(self) -> None:
        self.port = 0
        self.directory: Path | None = None
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> PostgresCluster:
        user = _run_as()
        self.directory = Path(tempfile.mkdtemp(prefix="billfold-postgres-"))
        data, log = self.directory / "data", self.directory / "postgres.log"
        data.mkdir()
        if user:
            for path in (self.directory, data):
                shutil.chown(path, user=user)
        initdb = subprocess.run(  # noqa: S603 - PostgreSQL's own tool
            [postgres_binary("initdb"), "--pgdata", str(data), "--username", SUPERUSER,
             "--auth", "trust", "--encoding", "UTF8", "--locale", "C", "--no-sync"],
            capture_output=True, text=True, user=user, check=False,
        )  # fmt: skip
        if initdb.returncode != 0:
            self.stop()
            raise LaunchError(f"initdb failed:\n{initdb.stdout}{initdb.stderr}")
        self.port = free_port()
        settings = [arg for setting in FAST_SETTINGS for arg in ("-c", setting)]
        self.process = start_process_group(
            [postgres_binary("postgres"), "-D", str(data), "-p", str(self.port),
             "-h", "127.0.0.1", "-k", str(self.directory), *settings],
            {}, log, user=user, cwd=self.directory,
        )  # fmt: skip
        wait_until_ready(self.process, self._answers, "PostgreSQL", log, timeout)
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """CREATE DATABASE `name`; returns its URL (as the superuser)."""
        connection = psycopg2.connect(self.url())
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return self.url(name)

    def stop(self) -> None:
        """Fast shutdown (SIGINT: open sessions end, where SIGTERM would wait for them), then
        the folder goes."""
        stop_process_group(self.process, sig=signal.SIGINT)
        self.process = None
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def __enter__(self) -> PostgresCluster:
        return self if self.process else self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _answers(self) -> bool:
        try:
            psycopg2.connect(self.url(), connect_timeout=1).close()
        except psycopg2.OperationalError:
            return False
        return True
