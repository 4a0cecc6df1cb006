"""Invoice tables build each row's links from a path routed once: they must be url_for's paths."""

import pytest
from flask import url_for

from app.portal.invoice_paths import ENDPOINTS, invoice_path, invoice_paths, quoted

IDS = ["in_1Abc", "in_" + "x" * 200, "in_a b/c?d#e%f", "in_é"]


@pytest.mark.parametrize("root", ["", "/billing"])
def test_each_action_path_is_the_one_url_for_builds(app, root):
    for action, endpoint in ENDPOINTS.items():
        for invoice_id in IDS:
            with app.test_request_context("/", base_url=f"http://acme.localhost{root}"):
                built = url_for(endpoint, invoice_id=invoice_id)
                assert invoice_path(action, invoice_id) == built
                before, after = invoice_paths()[action]  # as a table builds its rows
                assert before + quoted(invoice_id) + after == built
                assert built.startswith(f"{root}/invoices/")


def test_an_unknown_action_is_refused(app):
    with app.test_request_context("/"), pytest.raises(KeyError):
        invoice_path("refund", "in_1Abc")
