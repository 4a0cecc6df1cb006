"""The app served over real HTTP (or HTTPS) by gunicorn, for the emulator's webhooks and the
browser."""

from __future__ import annotations

import ssl
import urllib.request
from pathlib import Path

from tests.support.local_services.processes import LaunchError, free_port
from tests.support.local_services.web import Gunicorn
from tests.support.tls import TlsSite


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
        self.log_path = log_path
        tls_args = ["--certfile", str(tls.cert_file), "--keyfile", str(tls.key_file)] if tls else []
        self.gunicorn = Gunicorn(
            {**env, "PLATFORM_DOMAIN": f"{self.host}:{self.port}", **secure},
            log_path,
            port=self.port,
            workers=workers,
            threads=4,
            extra_args=["--access-logfile", "-",
                        "--logger-class", "app.server_logs.RedactingLogger", *tls_args],
            ready=self._healthy,
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def tenant_url(self, subdomain: str) -> str:
        return f"{self.scheme}://{subdomain}.{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> LiveServer:
        self.gunicorn.start(timeout)
        return self

    def _healthy(self) -> bool:
        if self.tls:  # a verified handshake: the certificate is good for the platform's name
            try:
                return self.tls.get("/healthz") == 200
            except ssl.SSLCertVerificationError as exc:  # no use waiting: the certificate is wrong
                raise LaunchError(f"the test site's certificate is refused: {exc}") from exc
        probe = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/healthz", headers={"Host": f"localhost:{self.port}"}
        )
        urllib.request.urlopen(probe, timeout=1).close()
        return True

    def stop(self) -> None:
        self.gunicorn.stop()
