"""A throwaway Redis server on a free loopback port that keeps nothing on disk."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import redis

from tests.support.local_services.processes import (
    LaunchError,
    free_port,
    start_process_group,
    stop_process_group,
    wait_until_ready,
)


class RedisServer:
    """`with RedisServer() as server: redis.Redis.from_url(server.url(0))`."""

    def __init__(self) -> None:
        self.port = 0
        self.directory: Path | None = None
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise LaunchError("redis-server not found: install Redis (scripts/services.sh)")
        self.directory = Path(tempfile.mkdtemp(prefix="billfold-redis-"))
        log = self.directory / "redis.log"
        self.port = free_port()
        self.process = start_process_group(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", str(self.directory)],
            {}, log, cwd=self.directory,
        )  # fmt: skip
        wait_until_ready(self.process, self._answers, "redis-server", log, timeout)
        return self

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        stop_process_group(self.process)
        self.process = None
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def __enter__(self) -> RedisServer:
        return self if self.process else self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=1).ping())
        except redis.exceptions.ConnectionError:
            return False
