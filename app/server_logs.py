"""Log lines without live sign-in tokens or whole email addresses. An emailed link's path holds a
token (/login/verify/<token>, the dashboard's /dashboard/verify/, /reset/, /confirm-email/), a
portal link may carry an address (?email=), and request lines, Referers and error messages would
otherwise write them to every log store.

gunicorn: `--logger-class app.server_logs.RedactingLogger`. The app's own records (Flask's and
ours, Werkzeug's dev server, Celery) pass through `install_log_redaction()`, which create_app
calls.
"""

from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger as GunicornLogger

# The token segment of an emailed link — a customer's /login/verify/, a merchant's
# /dashboard/verify/, /dashboard/reset/, /dashboard/confirm-email/ — also percent-encoded
# inside a query string.
TOKEN_IN_URL = re.compile(
    r"((?:login|dashboard)(?:/|%2f)(?:verify|reset|confirm-email)(?:/|%2f))[^/?#&\s\"'\[\]]+",
    re.IGNORECASE,
)
REDACTED = r"\1[redacted]"
# An email address, also percent-encoded in a query string (?email=ada%40example.com): a log
# keeps its first letter and its domain, enough to follow a case, never the whole address.
EMAIL_ADDRESS = re.compile(
    r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9])[A-Za-z0-9._%+-]*(@|%40)([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)",
    re.IGNORECASE,
)
MASKED_ADDRESS = r"\1***\2\3"


def redact(text: str) -> str:
    return EMAIL_ADDRESS.sub(MASKED_ADDRESS, TOKEN_IN_URL.sub(REDACTED, text))


def _redacted(value):
    return redact(value) if isinstance(value, str) else value


class RedactTokens(logging.Filter):
    """Rewrite a record so that no handler or formatter can write a token: its message (the
    arguments stay as they are unless they held one) and its traceback."""

    _tracebacks = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: the handler reports it, as logging always does
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self._tracebacks.formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_log_redaction() -> None:
    """Redact every record this process makes, whichever logger or handler writes it: Celery
    and gunicorn replace handlers after start-up, so a handler filter could be lost."""
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "redacts_tokens", False):
        return
    redactor = RedactTokens()

    def redacting_factory(*args, **kwargs):
        record = make_record(*args, **kwargs)
        redactor.filter(record)
        return record

    redacting_factory.redacts_tokens = True
    logging.setLogRecordFactory(redacting_factory)


class RedactingLogger(GunicornLogger):
    """gunicorn's logger with the token redacted from every access-log atom (request line,
    path, Referer, headers, environ) and from its error log."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        install_log_redaction()  # the master's records, and the workers' it forks

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: _redacted(value) for key, value in atoms.items()}
