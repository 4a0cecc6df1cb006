"""An invoice table's rows, worked out in Python: what each row says and which actions it offers."""

from datetime import UTC, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from app.billing.models import CachedInvoice
from app.portal.invoice_rows import invoice_rows

CREATED = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)  # still Feb 28 in Los Angeles


def _invoice(stripe_id, status, *, paused=False, number=None, pdf=True, **columns):
    invoice = CachedInvoice(
        stripe_id=stripe_id,
        customer_id="cus_1",
        status=status,
        number=number,
        total=1250,
        amount_remaining=1250 if status in ("open", "uncollectible") else 0,
        currency="eur",
        stripe_created=CREATED,
        hosted_invoice_url="https://invoice.stripe.com/i/x",
        invoice_pdf="https://pay.stripe.com/invoice/x/pdf" if pdf else None,
        **columns,
    )
    invoice.collection_paused = paused
    return invoice


def _rows(app, invoices, *, payment=True, names=None, zone=UTC):
    tenant = SimpleNamespace(allow_invoice_payment=payment)
    with app.test_request_context("/", base_url="http://acme.localhost"):
        return invoice_rows(invoices, tenant, zone, names)


def test_a_row_says_number_date_amount_and_status_in_the_tenants_zone(app):
    (row,) = _rows(app, [_invoice("in_1", "paid", number="ACME-0001")],
                   zone=ZoneInfo("America/Los_Angeles"))  # fmt: skip
    assert (row.number, row.date, row.amount) == ("ACME-0001", "Feb 28, 2026", "€12.50")
    assert (row.label, row.tone) == ("Paid", "ok")
    assert row.pay_path is None and row.pay_amount == ""
    assert row.view_path == "/invoices/in_1/view" and row.pdf_path == "/invoices/in_1/pdf"
    assert row.customer_name is None


def test_open_and_written_off_invoices_can_be_paid_only_where_the_merchant_allows(app):
    invoices = [_invoice("in_open", "open"), _invoice("in_off", "uncollectible", pdf=False)]
    allowed = _rows(app, invoices)
    assert [r.pay_path for r in allowed] == ["/invoices/in_open/pay", "/invoices/in_off/pay"]
    assert [r.pay_amount for r in allowed] == ["€12.50", "€12.50"]
    assert allowed[0].number == "in_open"  # no number yet: its id
    assert allowed[1].pdf_path is None
    assert [r.pay_path for r in _rows(app, invoices, payment=False)] == [None, None]


def test_an_invoice_voided_during_a_pause_says_it_was_not_charged(app):
    during_pause = [_invoice("in_v", "void", paused=True), _invoice("in_u", "uncollectible",
                                                                     paused=True)]  # fmt: skip
    paused = _rows(app, during_pause)
    assert [(r.label, r.tone) for r in paused] == [("Not charged (payments paused)", "")] * 2
    (voided,) = _rows(app, [_invoice("in_v", "void")])
    assert voided.label != "Not charged (payments paused)"


def test_an_overdue_invoice_sent_for_payment_says_since_when(app):
    due = datetime(2026, 3, 10, tzinfo=UTC)
    (row,) = _rows(app, [_invoice("in_due", "open", due_date=due)])
    assert (row.label, row.tone) == ("Overdue since Mar 10, 2026", "danger")


def test_customer_names_are_shown_only_when_given(app):
    (row,) = _rows(app, [_invoice("in_1", "paid")], names={"cus_1": "Ada's Rockets"})
    assert row.customer_name == "Ada's Rockets"
