"""Several Stripe customers on one email: each shows its own recent invoices."""

from __future__ import annotations

import time

from tests.support.cached_rows import cache, invoice
from tests.support.portal_client import sign_in
from tests.support.queries import count_queries


def test_a_customer_with_many_invoices_does_not_crowd_out_the_others(
    portal, merchant, smtp_sink, app
):
    """Stripe lists a customer's invoices newest first, each customer on its own
    (https://docs.stripe.com/api/invoices/list, the customer filter): so does the account page."""
    sign_in(portal, smtp_sink, "ada@example.com")
    with count_queries(app) as before:
        portal.get("/account")
    now = int(time.time()) + 60  # newer than the second customer's open invoice
    cache(
        merchant.tenant.id,
        *(invoice(merchant.ada_first.id, total=100 + n, created=now + n) for n in range(12)),
    )

    with count_queries(app) as after:
        html = portal.get("/account").text

    second = html[html.index("Ada&#39;s workshop") :]
    assert "No invoices yet" not in second
    assert "Pay $42.00" in second  # its own open invoice, older than all of the first's
    first = html[html.index("Ada Lovelace") : html.index("Ada&#39;s workshop")]
    assert first.count('class="invoice__number"') == 5  # the first's five newest
    assert "$1.11" in first and "$1.06" not in first
    assert len(after) == len(before)
