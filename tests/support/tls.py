"""A throwaway HTTPS site for the tests: its own CA, a certificate for the platform domain and
every tenant's host, and the port it will be served on."""

from __future__ import annotations

import base64
import hashlib
import http.client
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.support.local_services.processes import free_port

# A name under .localhost (Chromium sends every *.localhost name to loopback) with a label of
# its own, so that *.billfold.localhost is a wildcard TLS libraries accept.
HTTPS_DOMAIN = "billfold.localhost"


@dataclass(frozen=True)
class TlsSite:
    domain: str  # PLATFORM_DOMAIN, with the port
    host: str
    port: int
    ca_file: Path
    cert_file: Path
    key_file: Path

    @classmethod
    def create(cls, directory: Path, host: str = HTTPS_DOMAIN) -> TlsSite:
        ca = trustme.CA(organization_name="Billfold test CA")
        leaf = ca.issue_cert(host, f"*.{host}", common_name=host)
        site = cls(
            domain=f"{host}:{(port := free_port())}",
            host=host,
            port=port,
            ca_file=directory / "ca.pem",
            cert_file=directory / "site.pem",
            key_file=directory / "site.key",
        )
        ca.cert_pem.write_to_path(str(site.ca_file))
        leaf.cert_chain_pems[0].write_to_path(str(site.cert_file))
        leaf.private_key_pem.write_to_path(str(site.key_file))
        return site

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_file.read_bytes())

    @property
    def spki_sha256(self) -> str:
        """The certificate's public key hash, as Chromium's --ignore-certificate-errors-spki-list
        takes it: Chromium trusts this one key, and still does the whole TLS handshake."""
        spki = self.certificate.public_key().public_bytes(
            Encoding.DER, PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(hashlib.sha256(spki).digest()).decode()

    @property
    def link_env(self) -> dict[str, str]:
        """Settings that make emailed links point here, over https, as production's do."""
        return {"PLATFORM_DOMAIN": self.domain, "PREFERRED_URL_SCHEME": "https"}

    def get(self, path: str, host: str | None = None) -> int:
        """GET over a verified TLS connection (our CA, the host name checked): the status."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        connection = http.client.HTTPSConnection(
            host or self.host, self.port, timeout=2, context=context
        )
        # *.localhost names need not resolve outside browsers: connect to loopback, still
        # sending and checking the name.
        connection._create_connection = lambda address, *args, **kwargs: socket.create_connection(
            ("127.0.0.1", address[1]), *args, **kwargs
        )
        try:
            connection.request("GET", path)
            return connection.getresponse().status
        finally:
            connection.close()
