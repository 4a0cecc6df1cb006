"""The benchmark's own services (emulator, gunicorn, Celery worker) and its load generators.

Everything listens on 127.0.0.1, uses the PostgreSQL database `billfold_bench` (rebuilt) and
Redis database 14 (flushed), and is stopped when the `Services` block ends.
"""

from __future__ import annotations

import http.client
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import redis

from stripe_emulator.launcher import StripeEmulator
from tests.support.local_services.processes import free_port
from tests.support.local_services.web import Gunicorn
from tests.support.local_services.worker import CeleryWorker

ROOT = Path(__file__).resolve().parents[1]
LOG_DIR = ROOT / "instance" / "bench"
DATABASE = "billfold_bench"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE_URL = f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"
REDIS_URL = "redis://127.0.0.1:6379/14"
PLATFORM_KEY = "sk_test_billfold_bench"  # noqa: S105 - the local emulator's
WEBHOOK_SECRET = "whsec_billfold_bench"  # noqa: S105 - the local emulator's


def ensure_database() -> None:
    connection = psycopg2.connect(ADMIN_URL)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{DATABASE}"')
    connection.close()


def rss_kib(pid: int) -> tuple[int, int]:
    """(current, peak) resident memory of a process, in KiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def postgres_backends() -> list[int]:
    """Server processes of the benchmark's database (their command line names it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if cmdline.startswith(b"postgres: ") and DATABASE.encode() in cmdline:
                found.append(int(entry.name))
    return found


class Services:
    """Emulator, gunicorn (the Procfile's web settings) and a Celery worker, on loopback."""

    def __init__(self, worker_concurrency: int, web_workers: int = 2) -> None:
        self.worker_concurrency = worker_concurrency
        self.web_workers = web_workers
        self.web_port = free_port()
        self.emulator = StripeEmulator()
        self.web: Gunicorn | None = None
        self.worker: CeleryWorker | None = None
        self.worker_name = ""
        self.env: dict[str, str] = {}

    def __enter__(self) -> Services:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        # Stopped by a signal, still stop every child: they run in sessions of their own.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        ensure_database()
        bench_redis = redis.Redis.from_url(REDIS_URL)
        me, db = bench_redis.client_id(), REDIS_URL.rsplit("/", 1)[1]
        if any(c["db"] == db and int(c["id"]) != me for c in bench_redis.client_list()):
            raise RuntimeError(f"something else uses {REDIS_URL} (a worker left running?)")
        bench_redis.flushdb()
        self.emulator.start(port=0)
        self.env = {
            "BILLFOLD_ENV": "development",
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": REDIS_URL,
            "PLATFORM_DOMAIN": f"localhost:{self.web_port}",
            "SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
            "STRIPE_API_BASE": self.emulator.url,
            "STRIPE_SECRET_KEY": PLATFORM_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            # These benchmarks measure the worker's own cost per event, not the request budget
            # a real account would get (bench/backfill.py measures that): lift it out of the way.
            "STRIPE_BULK_REQUESTS_PER_SECOND": "100000",
        }
        os.environ.update(self.env)
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop_worker()
        if self.web is not None:
            self.web.stop()
        self.emulator.stop()

    def start_web(self) -> None:
        log = LOG_DIR / "gunicorn.log"
        log.unlink(missing_ok=True)
        self.web = Gunicorn(
            self.env, log, port=self.web_port, workers=self.web_workers,
            health_host=self.env["PLATFORM_DOMAIN"],
        ).start()  # fmt: skip

    def start_worker(self, celery_app) -> None:
        log = LOG_DIR / "worker.log"
        log.unlink(missing_ok=True)
        self.worker = CeleryWorker(
            self.env, log, concurrency=self.worker_concurrency, queues="events,backfill,default",
            name="bench", loglevel="WARNING",
        ).start(celery_app)  # fmt: skip
        self.worker_name = self.worker.nodename

    def stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        self.worker = None

    def worker_pool_pids(self) -> list[int]:
        return self.worker.pool_pids()


@dataclass
class LoadResult:
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


Request = tuple[str, str, bytes | None, dict]  # method, path, body, headers


def _send(connection: http.client.HTTPConnection, request: Request) -> int:
    method, path, body, headers = request
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    return response.status


def closed_loop(port: int, requests: list[Request], concurrency: int) -> LoadResult:
    """Send every request as fast as `concurrency` connections allow."""
    result = LoadResult(seconds=0.0)
    lock = threading.Lock()
    todo = iter(requests)

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                request = next(todo, None)
            if request is None:
                return
            started = time.perf_counter()
            status = _send(connection, request)
            took = time.perf_counter() - started
            with lock:
                result.latencies.append(took)
                result.errors += status != 200

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result


def open_loop(port: int, make_request: Callable[[int], Request], rate: float, count: int):
    """Send `count` requests at a steady `rate`; latency counts from each one's due time."""
    result = LoadResult(seconds=0.0)
    lock = threading.Lock()
    started = time.perf_counter()
    interval = 1.0 / rate
    next_index = iter(range(count))

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                return
            when = started + index * interval
            time.sleep(max(0.0, when - time.perf_counter()))
            status = _send(connection, make_request(index))
            took = time.perf_counter() - when  # includes any wait for a free client
            with lock:
                result.latencies.append(took)
                result.errors += status != 200

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result
