"""Readiness: can this process serve? The database, Redis, and a worker that is alive, each
checked with its timing, for load balancers and orchestrators (`/readyz`)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import redis
from flask import current_app
from sqlalchemy import text

from app.extensions import db
from worker.heartbeat import read_heartbeats


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    ms: float
    detail: str


def _timed(name: str, probe) -> Check:
    started = time.perf_counter()
    try:
        ok, detail = probe()
    except Exception as exc:  # noqa: BLE001 - the probe's answer is the failure itself
        ok, detail = False, f"{type(exc).__name__}: {str(exc)[:200]}"
    return Check(name, ok, round((time.perf_counter() - started) * 1000, 2), detail)


def _database():
    db.session.execute(text("SELECT 1"))
    db.session.rollback()  # a probe holds nothing open
    return True, "answered"


def redis_client():
    url = current_app.config.get("REDIS_URL")
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2) if url else None


def _redis():
    client = redis_client()
    if client is None:
        return True, "not used (tasks run in-process)"
    client.ping()
    return True, "answered"


def _worker():
    client = redis_client()
    if client is None or current_app.config.get("CELERY_EAGER"):
        return True, "not used (tasks run in-process)"
    limit = current_app.config["WORKER_HEARTBEAT_MAX_AGE_SECONDS"]
    beats = read_heartbeats(client)
    if not beats:
        return False, "no worker has ever reported"
    name, newest = next(iter(beats.items()))
    if newest["age"] > limit:
        return False, f"newest heartbeat {newest['age']:.0f} s old (limit {limit} s)"
    return True, f"{name}: {newest['age']:.0f} s ago"


def readiness() -> tuple[bool, dict]:
    checks = [_timed("database", _database), _timed("redis", _redis), _timed("worker", _worker)]
    ready = all(check.ok for check in checks)
    return ready, {
        "status": "ready" if ready else "not ready",
        "failing": [check.name for check in checks if not check.ok],
        "checks": {check.name: asdict(check) for check in checks},
    }
