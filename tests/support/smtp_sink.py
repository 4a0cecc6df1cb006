"""A real SMTP server (aiosmtpd) on loopback whose received messages tests can read."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.support.local_services.processes import free_port


class _Collector:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        with self.lock:
            self.messages.append(message)
        return "250 OK"


class SmtpSink:
    """smtputf8: whether the server offers SMTPUTF8 (addresses with non-ASCII local parts)."""

    def __init__(self, *, smtputf8: bool = True) -> None:
        self._collector = _Collector()
        self.port = free_port()
        self._controller = Controller(
            self._collector, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=smtputf8
        )

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        with self._collector.lock:
            return list(self._collector.messages)

    def clear(self) -> None:
        with self._collector.lock:
            self._collector.messages.clear()

    def wait_for(self, to: str, timeout: float = 10.0) -> EmailMessage:
        """The newest message to `to`, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in reversed(self.messages):
                if to.lower() in message["X-Envelope-To"].lower():
                    return message
            time.sleep(0.05)
        raise AssertionError(f"no email to {to} within {timeout}s")
