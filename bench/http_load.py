"""A small, cheap HTTP/1.1 load driver: a fixed number of GETs over a few keep-alive connections.

The client shares the machine with the server it measures, so it does as little as it can per
request: one pre-built request, a socket read until the body's Content-Length is in. Every
request is checked for its status; latency is measured around the whole exchange.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import statistics
import threading
import time
from dataclasses import dataclass


class LoadError(RuntimeError):
    """A response could not be read (connection closed, no Content-Length)."""


def build_request(path: str, host: str, cookie: str | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Accept-Encoding: identity"]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class KeepAliveConnection:
    """One TCP connection to 127.0.0.1:port, reused for request after request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None
        self.buffer = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock, self.buffer = sock, b""
        return sock

    def get(self, raw_request: bytes) -> tuple[int, bytes]:
        """Send one request and return (status, body); reconnects if the server closed."""
        sock = self.sock or self._connect()
        sock.sendall(raw_request)
        while b"\r\n\r\n" not in self.buffer:
            self._fill(sock)
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        status = int(head[9:12])
        length, close = None, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        if length is None:
            raise LoadError(f"response without Content-Length: {head[:200]!r}")
        while len(rest) < length:
            rest += self._read(sock)
        body, self.buffer = rest[:length], rest[length:]
        if close:
            self.close()
        return status, body

    def _fill(self, sock: socket.socket) -> None:
        self.buffer += self._read(sock)

    @staticmethod
    def _read(sock: socket.socket) -> bytes:
        chunk = sock.recv(262144)
        if not chunk:
            raise LoadError("the server closed the connection mid-response")
        return chunk

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""


@dataclass
class PhaseResult:
    requests: int
    seconds: float
    latencies: list[float]  # seconds, one per request
    bad_statuses: dict[int, int]
    server_cpu: float = 0.0  # seconds of CPU the server used meanwhile, if the caller measured it

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, pct: int) -> float:
        """Latency at `pct` percent, in milliseconds."""
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return cuts[pct - 1] * 1000

    @staticmethod
    def combine(results: list[PhaseResult]) -> PhaseResult:
        """Several rounds of one endpoint as one result (total requests over total time)."""
        bad: dict[int, int] = {}
        for result in results:
            for status, count in result.bad_statuses.items():
                bad[status] = bad.get(status, 0) + count
        return PhaseResult(
            requests=sum(r.requests for r in results),
            seconds=sum(r.seconds for r in results),
            latencies=[x for r in results for x in r.latencies],
            bad_statuses=bad,
            server_cpu=sum(r.server_cpu for r in results),
        )


def run_phase(port: int, raw_request: bytes, requests: int, concurrency: int) -> PhaseResult:
    """Send `requests` GETs from `concurrency` threads, each on its own keep-alive connection."""
    tickets = itertools.count()  # next() is atomic under the GIL: each ticket is one request
    start = threading.Barrier(concurrency + 1)
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    bad: list[dict[int, int]] = [{} for _ in range(concurrency)]
    failures: list[BaseException] = []

    def client(index: int) -> None:
        connection = KeepAliveConnection(port)
        own, own_bad = latencies[index], bad[index]
        try:
            connection.get(raw_request)  # open the connection before the clock starts
            start.wait()
            while next(tickets) < requests:
                began = time.perf_counter()
                status, _ = connection.get(raw_request)
                own.append(time.perf_counter() - began)
                if status != 200:
                    own_bad[status] = own_bad.get(status, 0) + 1
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            failures.append(exc)
            start.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a client failed: reported below
        start.wait(timeout=30)
    began = time.perf_counter()
    for thread in threads:
        thread.join(timeout=300)
    seconds = time.perf_counter() - began
    if failures:
        raise LoadError(f"a client thread failed: {failures[0]!r}") from failures[0]
    merged: dict[int, int] = {}
    for counts in bad:
        for status, count in counts.items():
            merged[status] = merged.get(status, 0) + count
    return PhaseResult(requests, seconds, [x for own in latencies for x in own], merged)
