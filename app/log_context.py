"""Log lines that say which request, tenant and task they belong to, as JSON in production.

Every record gets `request_id`, `tenant` (the subdomain) and `task_id`, whoever logs it: a
request id is taken from a trusted proxy's X-Request-ID (only when PROXY_FIX_HOPS says a proxy
is trusted, and only if it looks like one) or made here, and is returned in the response's
X-Request-ID. With LOG_FORMAT=json (production's default) each record is one JSON object.
Tokens and addresses are already masked in every record (app/server_logs.py).
"""

from __future__ import annotations

import logging
import re
import uuid

from celery import current_task
from flask import Flask, current_app, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
TEXT_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(tenant)s %(task_id)s]: %(message)s"
)
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(tenant)s %(task_id)s"


def _request_id() -> str:
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    if current_app.config.get("PROXY_FIX_HOPS") and SAFE_REQUEST_ID.match(offered):
        return offered
    return uuid.uuid4().hex


def _start_request() -> None:
    g.request_id = _request_id()


def _answer_request(response):
    if g.get("request_id"):
        response.headers[REQUEST_ID_HEADER] = g.request_id
    return response


def _context() -> tuple[str, str, str]:
    request_id = tenant = task_id = "-"
    if has_request_context():
        request_id = g.get("request_id") or "-"
        found = g.get("tenant")
        tenant = found.subdomain if found is not None else "-"
    elif current_task and current_task.request and current_task.request.id:  # a worker's task
        task_id = current_task.request.id
        args = current_task.request.args or ()
        tenant = f"tenant:{args[0]}" if args and isinstance(args[0], int) else "-"
    return request_id, tenant, task_id


def install_log_context() -> None:
    """Give every record of this process its request, tenant and task (once per process)."""
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "adds_context", False):
        return

    def with_context(*args, **kwargs):
        record = make_record(*args, **kwargs)
        try:
            record.request_id, record.tenant, record.task_id = _context()
        except Exception:  # noqa: BLE001 - a log line must never fail for want of context
            record.request_id = record.tenant = record.task_id = "-"
        return record

    with_context.adds_context = True
    logging.setLogRecordFactory(with_context)


def log_formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(JSON_FIELDS, rename_fields={"levelname": "level", "asctime": "time"})
    return logging.Formatter(TEXT_FORMAT)


def init_logging(app: Flask) -> None:
    install_log_context()
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    root.setLevel(logging.INFO)
    for handler in root.handlers:
        handler.setFormatter(log_formatter(app.config["LOG_FORMAT"]))
    app.before_request(_start_request)
    app.after_request(_answer_request)
