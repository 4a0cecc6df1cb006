"""Each worker says it is alive: every few seconds it writes the time under its name in Redis.

Readiness (`/readyz`) and the operators' console read these: a worker whose last heartbeat is
old has died or is stuck. A Celery bootstep on the worker's own timer, so it beats while every
pool process is busy with a long task.
"""

from __future__ import annotations

import json
import logging
import time

import redis
from celery import bootsteps

HEARTBEATS_KEY = "billfold:worker-heartbeats"  # hash: worker name -> {"at": unix time, "queues"}
HEARTBEAT_SECONDS = 10.0
FORGET_AFTER_SECONDS = 24 * 3600  # a worker gone this long is dropped from the list

log = logging.getLogger(__name__)


class Heartbeat(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.timer_ref = None

    def start(self, worker):
        self.beat(worker)
        self.timer_ref = worker.timer.call_repeatedly(HEARTBEAT_SECONDS, self.beat, (worker,))

    def stop(self, worker):
        if self.timer_ref is not None:
            self.timer_ref.cancel()

    def beat(self, worker) -> None:
        queues = sorted(worker.app.amqp.queues.consume_from or worker.app.amqp.queues)
        value = json.dumps({"at": time.time(), "queues": queues})
        try:
            client = redis.Redis.from_url(worker.app.conf.broker_url, socket_timeout=2)
            client.hset(HEARTBEATS_KEY, worker.hostname, value)
        except redis.RedisError as exc:  # the broker is down: the worker cannot work either
            log.warning("worker heartbeat not written: %s", exc)


def read_heartbeats(client: redis.Redis, now: float | None = None) -> dict[str, dict]:
    """Every worker's last heartbeat: {name: {"age": seconds, "queues": [...]}}, newest first;
    workers silent for a day are forgotten."""
    now = time.time() if now is None else now
    beats = {}
    for name, raw in client.hgetall(HEARTBEATS_KEY).items():
        try:
            value = json.loads(raw)
            age = max(0.0, now - float(value["at"]))
        except (ValueError, KeyError, TypeError):
            continue
        if age > FORGET_AFTER_SECONDS:
            client.hdel(HEARTBEATS_KEY, name)
            continue
        beats[name.decode() if isinstance(name, bytes) else name] = {
            "age": age,
            "queues": value.get("queues") or [],
        }
    return dict(sorted(beats.items(), key=lambda item: item[1]["age"]))
