"""No log line of the real gunicorn holds a sign-in token: access log (request line, Referer),
error log, and the app's own log of a 500, all captured as the Procfile's web process writes them.
"""

import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.live_server import LiveServer
from tests.support.portal_client import link_and_code

pytestmark = pytest.mark.browser

# Our tables out of sight, as on a release that skipped its migrations: every query fails.
NO_TABLES = "options=-csearch_path%3Dno_billfold_tables_here"


def wait_for_text(log: Path, text: str, timeout: float = 10.0) -> str:
    """The log once `text` is in it (gunicorn writes an access line just after answering)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = log.read_text()
        if text in content:
            return content
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not in {log} within {timeout}s")


def test_gunicorn_and_app_logs_never_hold_a_live_token(
    visitor, live_server, service_env, database, tmp_path
):
    page = visitor.page
    path, _ = link_and_code(visitor.ask_for_link("ada@example.com"))
    token = path.rsplit("/", 1)[1]
    confirm = page.goto(path)
    page.get_by_role("button", name="Continue to my account").click()  # Referer: the link
    expect(page.get_by_role("heading", level=1)).to_have_text("Your billing with Acme Rockets")
    assert confirm.request.url.endswith(token)  # the token really was in the URL

    # The same URL failing with a 500: a second gunicorn whose queries all fail.
    broken = LiveServer(
        {**service_env, "DATABASE_URL": f"{database.owner_url}?{NO_TABLES}"},
        tmp_path / "gunicorn-broken.log",
        workers=1,
    ).start()
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{broken.port}{path}",
            headers={"Host": f"acme.localhost:{broken.port}", "Referer": confirm.request.url},
        )
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(request, timeout=10)
        failed.value.close()
        assert failed.value.code == 500
    finally:
        broken.stop()

    served = wait_for_text(live_server.log_path, '"POST /login/verify/[redacted] HTTP/1.1" 302')
    assert '"GET /login/verify/[redacted] HTTP/1.1" 200' in served
    assert f"acme.localhost:{live_server.port}/login/verify/[redacted]" in served  # the Referer
    failed_log = broken.log_path.read_text()
    assert "unhandled error on GET /login/verify/[redacted]" in failed_log
    assert "Traceback" in failed_log  # the exception log is there, written without the token
    assert '"GET /login/verify/[redacted] HTTP/1.1" 500' in failed_log
    assert token not in served and token not in failed_log
