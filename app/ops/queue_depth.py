"""How many tasks wait in each queue, read from Redis when metrics are scraped."""

from __future__ import annotations

import redis
from prometheus_client.core import GaugeMetricFamily

from worker.celery_app import QUEUES

# Kombu's Redis transport keeps a queue as a list under its name, and one list per priority
# step beside it (the name, a separator and the step).
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)


def queue_depths(client: redis.Redis) -> dict[str, int]:
    """Tasks waiting in each queue (every priority step of it added up)."""
    depths = {}
    for queue in QUEUES:
        keys = [queue] + [f"{queue}{PRIORITY_SEPARATOR}{step}" for step in PRIORITY_STEPS]
        with client.pipeline() as pipe:
            for key in keys:
                pipe.llen(key)
            depths[queue] = sum(pipe.execute())
    return depths


class QueueDepth:
    def __init__(self, client: redis.Redis | None) -> None:
        self.client = client

    def collect(self):
        gauge = GaugeMetricFamily(
            "billfold_queue_depth", "Tasks waiting in each Celery queue", labels=["queue"]
        )
        if self.client is not None:
            for queue, depth in queue_depths(self.client).items():
                gauge.add_metric([queue], depth)
        yield gauge
