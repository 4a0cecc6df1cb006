"""Probes and metrics for the platform's monitoring: /readyz names what fails, /metrics is only
for allowed scrapers and its labels never carry an id or an address."""

import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.factory import create_app
from tests.conftest import CONNECT_WEBHOOK_SECRET
from tests.support.signing import encode, make_event, signature_header


def sample(body: str, name: str, **labels) -> float:
    """The value of one series in a scrape (0 when absent)."""
    for family in text_string_to_metric_families(body):
        for series in family.samples:
            if series.name == name and all(series.labels.get(k) == v for k, v in labels.items()):
                return series.value
    return 0.0


def scrape(client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture
def platform(client_for):
    return client_for(None)


def test_readyz_is_ready_with_a_live_worker(app, real_worker, platform, monkeypatch):
    monkeypatch.setitem(app.config, "CELERY_EAGER", False)
    deadline = time.monotonic() + 20
    while True:  # the worker's first heartbeat is written as it starts
        response = platform.get("/readyz")
        if response.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert response.status_code == 200, response.json
    checks = response.json["checks"]
    assert {name: check["ok"] for name, check in checks.items()} == {
        "database": True,
        "redis": True,
        "worker": True,
    }
    assert all(check["ms"] >= 0 for check in checks.values())
    assert response.json["failing"] == []


def test_readyz_names_a_worker_too_long_silent(app, platform, monkeypatch):
    monkeypatch.setitem(app.config, "CELERY_EAGER", False)
    monkeypatch.setitem(app.config, "WORKER_HEARTBEAT_MAX_AGE_SECONDS", -1)  # none is fresh
    response = platform.get("/readyz")
    assert response.status_code == 503
    assert response.json["failing"] == ["worker"]
    assert response.json["checks"]["database"]["ok"] is True


def test_readyz_names_redis_when_it_cannot_be_reached(app, platform, monkeypatch):
    monkeypatch.setitem(app.config, "CELERY_EAGER", False)
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    response = platform.get("/readyz")
    assert response.status_code == 503
    assert "redis" in response.json["failing"]
    assert "ConnectionError" in response.json["checks"]["redis"]["detail"]


def test_metrics_are_refused_to_strangers_and_served_to_allowed_scrapers(
    app, client_for, monkeypatch
):
    platform = client_for(None)
    assert platform.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    stranger = {"REMOTE_ADDR": "203.0.113.9"}
    assert platform.get("/metrics", environ_base=stranger).status_code == 404
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "s3cret-scrape-token")
    wrong = {"Authorization": "Bearer nope"}
    right = {"Authorization": "Bearer s3cret-scrape-token"}
    assert platform.get("/metrics", environ_base=stranger, headers=wrong).status_code == 404
    assert platform.get("/metrics", environ_base=stranger, headers=right).status_code == 200
    assert client_for("acme").get("/metrics").status_code == 404  # never on a tenant's host


def test_requests_are_counted_by_route_and_timed(platform):
    before = scrape(platform)
    platform.get("/healthz")
    platform.get("/no/such/page")
    after = scrape(platform)
    labels = {"endpoint": "core.healthz", "method": "GET", "status": "200"}
    assert sample(after, "billfold_http_requests_total", **labels) == (
        sample(before, "billfold_http_requests_total", **labels) + 1
    )
    missing = {"endpoint": "unmatched", "method": "GET", "status": "404"}
    assert sample(after, "billfold_http_requests_total", **missing) >= 1
    assert sample(after, "billfold_http_request_duration_seconds_count", endpoint="core.healthz")
    assert "/no/such/page" not in after  # a URL is never a label


def test_webhooks_count_by_type_and_outcome_with_no_ids(db_session, make_tenant, platform):
    make_tenant("acme", stripe_account="acct_metrics1")
    event = make_event("customer.updated", {"id": "cus_SECRETID", "object": "customer"})
    event["account"] = "acct_metrics1"
    body = encode(event)
    before = scrape(platform)
    signed = {"Stripe-Signature": signature_header(body, CONNECT_WEBHOOK_SECRET)}
    headers = {"Content-Type": "application/json", **signed}
    assert platform.post("/webhooks/stripe/connect", data=body, headers=headers).status_code == 200
    assert platform.post("/webhooks/stripe/connect", data=body, headers=headers).status_code == 200
    bad = {"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00"}
    assert platform.post("/webhooks/stripe/connect", data=body, headers=bad).status_code == 400
    after = scrape(platform)

    def grew(**labels):
        name = "billfold_webhooks_total"
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew(type="customer.updated", outcome="pending") == 1
    assert grew(type="customer.updated", outcome="duplicate") == 1
    assert grew(type="unverified", outcome="rejected_400") == 1
    assert "cus_SECRETID" not in after and "acct_metrics1" not in after


def test_counts_of_every_process_are_added_up_in_multiprocess_mode(tmp_path):
    """Under gunicorn each worker process counts for itself; the scrape adds them up."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    count = textwrap.dedent(
        """
        from app.metrics import EMAILS
        EMAILS.labels("login_link", "sent").inc(3)
        """
    )
    for _ in range(2):  # two processes, as two gunicorn workers
        subprocess.run([sys.executable, "-c", count], env=env, check=True)
    read = "from app.metrics import exposition; print(exposition().decode())"
    out = subprocess.run(
        [sys.executable, "-c", read], env=env, check=True, capture_output=True, text=True
    ).stdout
    assert sample(out, "billfold_emails_total", kind="login_link", outcome="sent") == 6


def test_the_alert_rules_name_only_metrics_that_exist(platform):
    """docs/prometheus-rules.yml must not alert on a series /metrics never exposes."""
    rules = (Path(__file__).resolve().parents[2] / "docs" / "prometheus-rules.yml").read_text()
    named = {name.removesuffix("_total") for name in re.findall(r"\bbillfold_[a-z_]+", rules)}
    # A counter's family is named without "_total" (a labelled one shows no sample until used).
    exposed = {family.name for family in text_string_to_metric_families(scrape(platform))}
    assert named and named <= exposed, named - exposed


@pytest.fixture
def app_without_database(app):
    """An app whose database cannot be reached (nothing listens on port 1); the session's app
    is made current again afterwards."""
    unreachable = "postgresql+psycopg2://billfold@127.0.0.1:1/billfold?connect_timeout=1"
    yield create_app({"CELERY_EAGER": True, "SQLALCHEMY_DATABASE_URI": unreachable})
    app.extensions["celery"].set_current()
    app.extensions["celery"].set_default()


def test_liveness_does_not_depend_on_the_database_but_readiness_does(app_without_database):
    """An orchestrator restarts a process whose liveness probe fails: a database outage must
    take web processes out of rotation (/readyz), not restart all of them (/healthz)."""
    client = app_without_database.test_client()
    host = {"Host": app_without_database.config["PLATFORM_DOMAIN"]}
    assert client.get("/healthz", headers=host).status_code == 200
    ready = client.get("/readyz", headers=host)
    assert ready.status_code == 503
    assert "database" in ready.json["failing"]
