"""A real Celery worker in a subprocess, sharing the tests' database, Redis and SMTP sink."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support.processes import stop_process_group

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    """`queues` and `name` let a test run a worker of its own beside the session's one."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        concurrency: int = 2,
        queues: str = "email,events,backfill,default",
        name: str = "tests",
    ) -> None:
        self.env = env
        self.log_path = log_path
        self.concurrency = concurrency
        self.queues = queues
        self.nodename = f"{name}-{os.getpid()}@{socket.gethostname()}"
        self.process: subprocess.Popen | None = None

    def start(self, celery_app, timeout: float = 30.0) -> WorkerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "worker.app", "worker",
                    "--queues", self.queues,
                    "--concurrency", str(self.concurrency),
                    "--pool", "prefork", "--loglevel", "INFO", "--without-gossip",
                    "--without-mingle", "--hostname", self.nodename,
                ],
                cwd=ROOT, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited early; see {self.log_path}")
            if celery_app.control.ping(destination=[self.nodename], timeout=0.5):
                return self
        self.stop()
        raise RuntimeError(f"celery worker did not answer within {timeout}s; see {self.log_path}")

    def pool_pids(self) -> list[int]:
        """Process ids of the worker's pool children: the processes that run the tasks."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(child) for child in children.split()]

    def stop(self) -> None:
        stop_process_group(self.process)
