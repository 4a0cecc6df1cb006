"""Internationalised addresses: SMTPUTF8 where the server offers it, IDNA domains always."""

import pytest
from sqlalchemy import select

from app.demo.stripe_data import create_paying_customer
from app.emails.models import DeliveryStatus, EmailDelivery
from app.extensions import db
from tenants.context import tenant_context
from tests.support.portal_client import link_and_code, request_link, sign_in
from tests.support.smtp_sink import SmtpSink


@pytest.fixture
def ascii_only_server(app):
    """A real SMTP server without SMTPUTF8, standing in for the configured one."""
    sink = SmtpSink(smtputf8=False).start()
    mail_state = app.extensions["mail"]
    original = mail_state.port
    mail_state.port = sink.port
    yield sink
    mail_state.port = original
    sink.stop()


def deliveries(merchant) -> list[EmailDelivery]:
    with tenant_context(merchant.tenant.id):
        return db.session.scalars(select(EmailDelivery).order_by(EmailDelivery.id)).all()


def test_a_non_ascii_local_part_signs_in_through_a_server_with_smtputf8(
    portal, merchant, smtp_sink
):
    create_paying_customer(merchant.stripe, "zoë@example.com", "Zoë Ørsted")
    response = sign_in(portal, smtp_sink, "zoë@example.com")
    assert response.status_code == 302 and response.location.endswith("/account")
    message = smtp_sink.wait_for("zoë@example.com")
    assert message["X-Envelope-To"] == "zoë@example.com"
    assert message["To"] == "zoë@example.com"
    assert message["From"] == "Acme Rockets <no-reply@billfold.test>"
    assert message["Reply-To"] == "billing@acme.test"
    assert "Zoë Ørsted" in portal.get("/account").text
    assert [(d.kind, d.status) for d in deliveries(merchant)] == [
        ("login_link", DeliveryStatus.SENT)
    ]


def test_an_internationalised_domain_goes_out_in_idna_2008_form(portal, merchant, smtp_sink):
    request_link(portal, "ada@straße.example")
    # IDNA 2008, as email_validator reads it: not "strasse.example", somebody else's domain.
    message = smtp_sink.wait_for("ada@xn--strae-oqa.example")
    assert message["X-Envelope-To"] == "ada@xn--strae-oqa.example"
    assert [d.status for d in deliveries(merchant)] == [DeliveryStatus.SENT]


def test_an_ascii_local_part_at_an_idn_domain_needs_no_smtputf8(
    portal, merchant, ascii_only_server
):
    request_link(portal, "ada@bücher.example")
    message = ascii_only_server.wait_for("ada@xn--bcher-kva.example")
    assert message["To"] == "ada@xn--bcher-kva.example"
    assert [d.status for d in deliveries(merchant)] == [DeliveryStatus.SENT]


def test_a_non_ascii_local_part_the_server_cannot_take_is_failed_once_with_the_reason(
    portal, merchant, ascii_only_server
):
    response = request_link(portal, "zoë@example.com")
    assert response.status_code == 302  # the customer sees the usual page
    [delivery] = deliveries(merchant)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1  # no retries: the next try would fail the same way
    assert delivery.error.startswith("zoë@example.com has non-ASCII characters before the @")
    assert "SMTPUTF8" in delivery.error
    assert ascii_only_server.messages == []
    # ASCII addresses still go out through the same server.
    request_link(portal, "ada@example.com")
    link_and_code(ascii_only_server.wait_for("ada@example.com"))
