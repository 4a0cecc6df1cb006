"""A real Celery worker (worker.app) in a process group of its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.support.local_services.processes import (
    children,
    start_process_group,
    stop_process_group,
    wait_until_ready,
)

ALL_QUEUES = "email,events,backfill,default"


class CeleryWorker:
    """`name` and `queues` let a second worker run beside another one (its own queue)."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        *,
        concurrency: int = 2,
        queues: str = ALL_QUEUES,
        name: str = "worker",
        loglevel: str = "INFO",
    ) -> None:
        self.env, self.log_path = env, log_path
        self.concurrency, self.queues, self.loglevel = concurrency, queues, loglevel
        self.nodename = f"{name}-{os.getpid()}@{socket.gethostname()}"
        self.process: subprocess.Popen | None = None

    def start(self, celery_app, timeout: float = 30.0) -> CeleryWorker:
        """Start it and wait until it answers a ping through `celery_app`'s broker."""
        self.process = start_process_group(
            [sys.executable, "-m", "celery", "-A", "worker.app", "worker",
             "--queues", self.queues, "--concurrency", str(self.concurrency),
             "--pool", "prefork", "--loglevel", self.loglevel, "--without-gossip",
             "--without-mingle", "--hostname", self.nodename],
            self.env, self.log_path,
        )  # fmt: skip

        def answers() -> bool:
            return bool(celery_app.control.ping(destination=[self.nodename], timeout=0.5))

        wait_until_ready(self.process, answers, "celery worker", self.log_path, timeout, 0)
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def pool_pids(self) -> list[int]:
        """Process ids of the pool's children: the processes that run the tasks."""
        return children(self.process.pid)

    def stop(self) -> None:
        stop_process_group(self.process)
        self.process = None
