"""A task goes through Redis to a real Celery worker process and runs as the right tenant."""

from types import SimpleNamespace

import pytest

from worker.celery_app import RENAMED_TASKS
from worker.health import worker_heartbeat

pytestmark = pytest.mark.worker


def test_task_round_trip_through_real_worker_carries_the_tenant(real_worker, make_tenant):
    acme, beta = make_tenant("acme"), make_tenant("beta")
    acme_result = worker_heartbeat.apply_async(args=[acme.id], ignore_result=False)
    beta_result = worker_heartbeat.apply_async(args=[beta.id], ignore_result=False)
    acme_seen = acme_result.get(timeout=20)
    beta_seen = beta_result.get(timeout=20)
    assert acme_seen["tenant_id"] == acme.id and acme_seen["subdomain"] == "acme"
    assert beta_seen["tenant_id"] == beta.id and beta_seen["subdomain"] == "beta"
    assert acme_seen["hostname"].startswith("tests-")  # ran in the worker process, not here


def test_a_message_queued_under_a_task_s_old_name_still_runs_after_an_upgrade(
    app, real_worker, make_tenant
):
    """Tasks moved beside their domain got new names; a message queued before the deploy, under
    the old name, is still taken by the new worker and runs the renamed task."""
    tenant = make_tenant("legacy")
    result = app.extensions["celery"].send_task(
        "worker.tasks.health.worker_heartbeat",
        args=[tenant.id],
        queue="default",
        ignore_result=False,
    )
    seen = result.get(timeout=20)
    assert seen["tenant_id"] == tenant.id and seen["hostname"].startswith("tests-")


def test_every_old_task_name_answers_to_a_registered_task(app):
    celery_app = app.extensions["celery"]
    for old_name, new_name in RENAMED_TASKS.items():
        assert celery_app.tasks[old_name] is celery_app.tasks[new_name]


def test_each_task_is_routed_to_its_kind_of_work(app):
    router = app.extensions["celery"].amqp.router
    expected = {
        "app.portal.tasks.send_login_email": "email",
        "app.billing.tasks.process_stripe_event": "events",
        "app.billing.tasks.reconcile_tenant": "events",
        "app.billing.tasks.backfill_tenant": "backfill",
        "worker.health.worker_heartbeat": "default",
    }
    for name, queue in expected.items():
        assert router.route({}, name)["queue"].name == queue, name


def test_tasks_are_serialised_as_json_only(app):
    conf = app.extensions["celery"].conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True


def test_enqueue_after_commit_sends_only_on_commit(db_session, make_tenant, app):
    from app.extensions import db
    from worker.dispatch import enqueue_after_commit

    tenant = make_tenant("disp")
    sent = []

    class Recorder:
        """Stands in for a task sent to a broker (not run eagerly)."""

        app = SimpleNamespace(conf=SimpleNamespace(task_always_eager=False))

        def apply_async(self, args, kwargs):
            sent.append(args)

    enqueue_after_commit(Recorder(), tenant.id)
    db.session.rollback()
    assert sent == []  # a rolled-back transaction sends nothing
    enqueue_after_commit(Recorder(), tenant.id)
    db.session.commit()
    assert sent == [(tenant.id,)]


def test_a_broker_failure_after_commit_loses_no_other_task_and_raises_nothing(
    db_session, make_tenant, caplog
):
    from app.extensions import db
    from worker.dispatch import enqueue_after_commit

    tenant = make_tenant("disp")
    sent = []

    class Task:
        app = SimpleNamespace(conf=SimpleNamespace(task_always_eager=False))

        def __init__(self, broker_up: bool) -> None:
            self.broker_up, self.name = broker_up, f"task-{broker_up}"

        def apply_async(self, args, kwargs):
            if not self.broker_up:
                raise ConnectionError("Redis is restarting")
            sent.append(args)

    enqueue_after_commit(Task(broker_up=False), tenant.id)
    enqueue_after_commit(Task(broker_up=True), tenant.id)
    db.session.commit()  # committed: the request goes on as if nothing happened
    assert sent == [(tenant.id,)]
    assert "could not queue task-False" in caplog.text
