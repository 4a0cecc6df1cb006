"""The app served over real HTTP (or HTTPS) by gunicorn, for the emulator's webhooks and the
browser."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.processes import stop_process_group
from tests.support.smtp_sink import free_port
from tests.support.tls import TlsSite

ROOT = Path(__file__).resolve().parents[2]


class LiveServer:
    """`tls`: serve HTTPS with the site's certificate and production's cookie and link settings."""

    def __init__(
        self, env: dict[str, str], log_path: Path, workers: int = 2, tls: TlsSite | None = None
    ) -> None:
        self.tls = tls
        self.port = tls.port if tls else free_port()
        self.host = tls.host if tls else "localhost"
        self.scheme = "https" if tls else "http"
        secure = {"SESSION_COOKIE_SECURE": "true", **tls.link_env} if tls else {}
        self.env = {**env, "PLATFORM_DOMAIN": f"{self.host}:{self.port}", **secure}
        self.log_path = log_path
        self.workers = workers
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def tenant_url(self, subdomain: str) -> str:
        return f"{self.scheme}://{subdomain}.{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> LiveServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        tls = self.tls and [
            "--certfile",
            str(self.tls.cert_file),
            "--keyfile",
            str(self.tls.key_file),
        ]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
                 "--workers", str(self.workers), "--threads", "4", "--access-logfile", "-",
                 "--logger-class", "app.server_logs.RedactingLogger",
                 *(tls or []), "wsgi:app"],
                cwd=ROOT, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early; see {self.log_path}")
            try:
                if self._healthy():
                    return self
            except ssl.SSLCertVerificationError:  # no use waiting: the certificate is wrong
                self.stop()
                raise
            except OSError:  # refused, reset or timed out while gunicorn's workers boot
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {timeout}s; see {self.log_path}")

    def _healthy(self) -> bool:
        if self.tls:  # a verified handshake: the certificate is good for the platform's name
            return self.tls.get("/healthz") == 200
        probe = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/healthz", headers={"Host": f"localhost:{self.port}"}
        )
        urllib.request.urlopen(probe, timeout=1).close()
        return True

    def stop(self) -> None:
        stop_process_group(self.process)
