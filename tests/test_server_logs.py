"""Sign-in tokens never reach a log line: Werkzeug's dev server, Flask's 500 log, our own logs.
(The real gunicorn's logs: tests/browser/test_token_free_logs.py.)"""

import logging
import secrets
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app.factory import create_app

ROOT = Path(__file__).resolve().parents[1]
# Our tables out of sight, as on a release that skipped its migrations: every query fails.
NO_TABLES = "options=-csearch_path%3Dno_billfold_tables_here"


@pytest.fixture
def failing_app(app, database):
    """An app whose every query fails; the session's app is made current again afterwards."""
    url = database.sqlalchemy_owner_url
    yield create_app({"CELERY_EAGER": True, "SQLALCHEMY_DATABASE_URI": f"{url}?{NO_TABLES}"})
    app.extensions["celery"].set_current()
    app.extensions["celery"].set_default()


def test_dev_server_and_the_500_log_write_the_link_without_its_token(failing_app, caplog):
    token = secrets.token_urlsafe(32)
    server = make_server("127.0.0.1", 0, failing_app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.port}/login/verify/{token}",
            headers={"Host": "acme.localhost"},
        )
        with caplog.at_level(logging.INFO), pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(request, timeout=10)
        failed.value.close()
    finally:
        server.shutdown()
        thread.join()
    assert failed.value.code == 500
    logged = caplog.text
    assert "unhandled error on GET /login/verify/[redacted]" in logged  # app.errors
    assert "Traceback" in logged
    assert '"GET /login/verify/[redacted] HTTP/1.1" 500' in logged  # werkzeug's request line
    assert token not in logged


def test_a_token_is_redacted_however_a_log_call_spells_it(app, caplog):
    token = secrets.token_urlsafe(32)
    log = logging.getLogger("billfold.test")
    with caplog.at_level(logging.INFO):
        log.info("opened %s", f"https://acme.example.com/login/verify/{token}?x=1")
        log.info("opened /login/verify/%s", token)  # split between format and argument
        log.info("next=%s", f"%2Flogin%2Fverify%2F{token}")  # inside a query string
        try:
            raise ValueError(f"bad link /login/verify/{token}")
        except ValueError:
            log.exception("failed")
    assert token not in caplog.text
    assert "https://acme.example.com/login/verify/[redacted]?x=1" in caplog.text
    assert "opened /login/verify/[redacted]" in caplog.text
    assert "%2Flogin%2Fverify%2F[redacted]" in caplog.text
    assert "ValueError: bad link /login/verify/[redacted]" in caplog.text


def test_the_procfile_web_process_uses_the_redacting_logger():
    web = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line[:4] == "web:")
    assert "--logger-class app.server_logs.RedactingLogger" in web


def test_the_dashboard_s_emailed_links_are_redacted_too():
    from app.server_logs import redact

    token = secrets.token_urlsafe(32)
    for path in ("/dashboard/verify/", "/dashboard/reset/", "/dashboard/confirm-email/"):
        line = f'"GET {path}{token} HTTP/1.1" 200 - "https://localhost{path}{token}"'
        assert token not in redact(line)
        assert f"{path}[redacted]" in redact(line)
    assert redact("/dashboard/resend-verification") == "/dashboard/resend-verification"
