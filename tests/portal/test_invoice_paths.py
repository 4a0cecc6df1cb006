"""Invoice tables build each row's links from a path routed once: they must be url_for's paths."""

import pytest
from flask import url_for

from app.portal.invoice_paths import ENDPOINTS, invoice_paths, quoted

IDS = ["in_1Abc", "in_" + "x" * 200, "in_a b/c?d#e%f", "in_é"]


@pytest.mark.parametrize("root", ["", "/billing"])
def test_each_action_path_is_the_one_url_for_builds(app, root):
    for action, endpoint in ENDPOINTS.items():
        for invoice_id in IDS:
            with app.test_request_context("/", base_url=f"http://acme.localhost{root}"):
                built = url_for(endpoint, invoice_id=invoice_id)
                before, after = invoice_paths()[action]  # as a table builds its rows
                assert before + quoted(invoice_id) + after == built
                assert built.startswith(f"{root}/invoices/")


def test_only_the_invoice_actions_are_routed(app):
    with app.test_request_context("/"):
        assert set(invoice_paths()) == {"pay", "view", "pdf"}
