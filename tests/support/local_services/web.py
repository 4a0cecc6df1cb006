"""gunicorn serving wsgi:app on loopback, in a process group of its own."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from tests.support.local_services.processes import (
    children,
    cpu_seconds,
    free_port,
    log_tail,
    start_process_group,
    stop_process_group,
    wait_until_ready,
)


class Gunicorn:
    """`extra_args` go before the app (TLS files, logger class); `ready` says when it serves
    (default: /healthz answers over plain HTTP for `health_host`)."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        *,
        port: int | None = None,
        workers: int = 2,
        threads: int = 1,
        extra_args: list[str] | None = None,
        health_host: str | None = None,
        ready: Callable[[], bool] | None = None,
    ) -> None:
        self.env, self.log_path = env, log_path
        self.port = port or free_port()
        self.workers, self.threads = workers, threads
        self.extra_args = extra_args or []
        self.health_host = health_host or f"localhost:{self.port}"
        self.ready = ready or self._healthz_answers
        self.process: subprocess.Popen | None = None

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
                "--workers", str(self.workers), "--threads", str(self.threads),
                *self.extra_args, "wsgi:app"]  # fmt: skip

    def start(self, timeout: float = 30.0) -> Gunicorn:
        self.process = start_process_group(self.command, self.env, self.log_path)
        wait_until_ready(self.process, self.ready, "gunicorn", self.log_path, timeout)
        return self

    def stop(self) -> None:
        stop_process_group(self.process)

    def cpu_seconds(self) -> float:
        """CPU time used so far by the master and its workers (user + system)."""
        pid = self.process.pid
        pids = [pid]
        with suppress(OSError):
            pids += children(pid)
        return sum(cpu_seconds(each) for each in pids)

    def log_tail(self, lines: int = 30) -> str:
        return log_tail(self.log_path, lines)

    def _healthz_answers(self) -> bool:
        probe = urllib.request.Request(  # noqa: S310 - loopback
            f"http://127.0.0.1:{self.port}/healthz", headers={"Host": self.health_host}
        )
        with urllib.request.urlopen(probe, timeout=1) as response:  # noqa: S310
            return response.status == 200
