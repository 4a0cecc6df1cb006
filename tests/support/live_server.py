"""The app served over real HTTP by gunicorn, for the emulator's webhooks and the browser."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.processes import stop_process_group
from tests.support.smtp_sink import free_port

ROOT = Path(__file__).resolve().parents[2]


class LiveServer:
    def __init__(self, env: dict[str, str], log_path: Path, workers: int = 2) -> None:
        self.port = free_port()
        self.env = {**env, "PLATFORM_DOMAIN": f"localhost:{self.port}"}
        self.log_path = log_path
        self.workers = workers
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def tenant_url(self, subdomain: str) -> str:
        return f"http://{subdomain}.localhost:{self.port}"

    def start(self, timeout: float = 30.0) -> LiveServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
                 "--workers", str(self.workers), "--threads", "4", "--access-logfile", "-",
                 "--logger-class", "app.server_logs.RedactingLogger", "wsgi:app"],
                cwd=ROOT, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early; see {self.log_path}")
            try:
                probe = urllib.request.Request(
                    f"http://127.0.0.1:{self.port}/healthz",
                    headers={"Host": f"localhost:{self.port}"},
                )
                urllib.request.urlopen(probe, timeout=1).close()
                return self
            except OSError:  # refused, reset or timed out while gunicorn's workers boot
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {timeout}s; see {self.log_path}")

    def stop(self) -> None:
        stop_process_group(self.process)
