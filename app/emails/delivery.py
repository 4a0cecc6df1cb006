"""Send a rendered email and keep its delivery record (queued -> sent / failed)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

from flask import current_app

from app.commits import record_side_effect
from app.emails.addresses import UndeliverableAddress, needs_smtputf8
from app.emails.models import DeliveryStatus, EmailDelivery
from app.emails.render import RenderedEmail, build_message
from app.extensions import db, mail
from tenants.models import Tenant


def record_delivery(email: RenderedEmail) -> EmailDelivery:
    delivery = EmailDelivery(kind=email.kind, to_email=email.to, subject=email.subject)
    db.session.add(delivery)
    db.session.flush()
    return delivery


def send_recorded(
    tenant: Tenant,
    delivery: EmailDelivery,
    email: RenderedEmail,
    *,
    final_attempt: bool,
    retried_on: tuple[type[BaseException], ...] = (),
) -> None:
    """Send now; on failure record the error and re-raise.

    The record stays `queued` only while a retry is coming: after the last try, or on an error
    not in `retried_on` (a header the mail library refuses, say), it is `failed`.
    """
    delivery.attempts += 1
    try:
        if current_app.config.get("MAIL_CAPTURE"):
            delivery.captured_text = email.text
            delivery.captured_html = email.html
        else:
            transmit(build_message(tenant, email))
    except Exception as exc:
        retrying = not final_attempt and isinstance(exc, retried_on)
        delivery.status = DeliveryStatus.QUEUED if retrying else DeliveryStatus.FAILED
        plain = isinstance(exc, UndeliverableAddress)  # its message is the whole reason
        delivery.error = (str(exc) if plain else f"{type(exc).__name__}: {exc}")[:1000]
        record_side_effect()  # what the mail server answered survives the re-raise
        raise
    delivery.status = DeliveryStatus.SENT
    delivery.error = None
    delivery.sent_at = datetime.now(UTC)
    record_side_effect()  # handed over: a later failure must not make it look unsent


def transmit(message: EmailMessage) -> None:
    """Hand the message to the mail server set by the MAIL_* settings.

    Flask-Mail's connection (TLS, login, MAIL_SUPPRESS_SEND) with smtplib's send_message, which
    speaks SMTPUTF8 when an address needs it and the server offers it.
    """
    with mail.connect() as connection:
        server = connection.host
        if server is None:  # MAIL_SUPPRESS_SEND
            return
        server.ehlo_or_helo_if_needed()
        addresses = [*message["From"].addresses, *message["To"].addresses]
        if not server.has_extn("smtputf8"):
            for address in addresses:
                if needs_smtputf8(address):
                    raise UndeliverableAddress(
                        f"{address.addr_spec} has non-ASCII characters before the @ and the "
                        f"mail server ({connection.mail.server}) does not accept such addresses "
                        "(no SMTPUTF8)"
                    )
        server.send_message(message)
