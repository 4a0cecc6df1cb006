"""gunicorn settings (`gunicorn -c python:app.ops.gunicorn_config`): with PROMETHEUS_MULTIPROC_DIR
set, a worker process that exits has its live gauges dropped from the shared metrics."""

from __future__ import annotations

import os


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
