"""Log lines say which request, tenant and task they belong to, and never hold a sign-in token
or a whole email address."""

import io
import json
import logging
import re

from app.log_context import log_formatter
from tests.conftest import PLATFORM_DOMAIN
from tests.support.portal_client import csrf_from


def json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_a_request_s_lines_carry_its_id_and_tenant_as_json(app, db_session, make_tenant):
    make_tenant("acme")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(log_formatter("json"))
    logger = logging.getLogger("app")
    logger.addHandler(handler)
    try:
        # A request on acme's host, through the app's own before/after hooks, logging as a view.
        with app.test_request_context("/", base_url=f"http://acme.{PLATFORM_DOMAIN}"):
            assert app.preprocess_request() is None
            logging.getLogger("app.probe").warning("looking at %s", "ada@example.com")
            response = app.process_response(app.make_response("ok"))
    finally:
        logger.removeHandler(handler)
    [line] = [entry for entry in json_lines(stream) if entry["name"] == "app.probe"]
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])
    assert line["tenant"] == "acme" and line["level"] == "WARNING"
    assert line["message"] == "looking at a***@example.com"


def test_a_request_id_is_believed_only_from_a_trusted_proxy(app, client_for, monkeypatch):
    platform = client_for(None)
    offered = {"X-Request-ID": "lb-0123456789abcdef"}
    assert (
        platform.get("/healthz", headers=offered).headers["X-Request-ID"] != offered["X-Request-ID"]
    )
    monkeypatch.setitem(app.config, "PROXY_FIX_HOPS", 1)
    assert (
        platform.get("/healthz", headers=offered).headers["X-Request-ID"] == offered["X-Request-ID"]
    )
    junk = {"X-Request-ID": "<script>alert(1)</script>"}
    assert re.fullmatch(
        r"[0-9a-f]{32}", platform.get("/healthz", headers=junk).headers["X-Request-ID"]
    )


def test_a_whole_sign_in_logs_no_token_no_address_and_no_secret(
    app, merchant, client_for, smtp_sink, caplog
):
    caplog.set_level(logging.DEBUG)
    portal = client_for(merchant.tenant.subdomain)
    page = portal.get("/?email=ada%40example.com&src=email-footer")
    portal.post("/", data={"csrf_token": csrf_from(page.text), "email": "ada@example.com"})
    message = smtp_sink.wait_for("ada@example.com")
    link = re.search(r"/login/verify/[A-Za-z0-9_-]+", message.get_body(("plain",)).get_content())
    confirm = portal.get(link.group(0))
    portal.post(link.group(0), data={"csrf_token": csrf_from(confirm.text)})
    assert portal.get("/account").status_code == 200
    logged = "\n".join(
        logging.Formatter("%(message)s %(exc_text)s").format(record) for record in caplog.records
    )
    assert caplog.records, "the flow logged nothing: the check would prove nothing"
    assert "ada@example.com" not in logged and "ada%40example.com" not in logged
    assert link.group(0) not in logged
    for secret in ("sk_test_", "sk_live_", "rk_test_", "whsec_"):
        assert secret not in logged
