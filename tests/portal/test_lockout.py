"""A stranger cannot deny a person their sign-in, and limits count actions, not routes.

The trade-offs these tests pin down are written in README > Security model.
"""

import re

from app.portal.limits import TENANT_CODE_MISSES
from tests.support.portal_client import csrf_from, link_and_code, request_link, sign_in
from tests.support.queries import count_queries


def _ask(client, email: str, route: str = "/", ip: str = "192.0.2.10"):
    page = client.get(route)
    return client.post(
        route,
        data={"email": email, "csrf_token": csrf_from(page.text)},
        environ_base={"REMOTE_ADDR": ip},
    )


def _guess(client, code: str, ip: str):
    page = client.get("/login/check")
    return client.post(
        "/login/code",
        data={"code": code, "csrf_token": csrf_from(page.text)},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_the_two_routes_of_the_login_form_share_one_count(acme_portal, tasks_via_redis):
    statuses = [
        _ask(acme_portal, "ada@example.com", route).status_code
        for route in ("/", "/login", "/", "/login", "/", "/login")
    ]
    assert statuses == [302] * 5 + [429]


def test_a_stranger_on_one_ip_cannot_use_up_a_persons_sign_in_emails(
    portal, merchant, smtp_sink, client_for
):
    stranger = client_for("acme")
    statuses = [_ask(stranger, "ada@example.com", ip="203.0.113.66").status_code for _ in range(7)]
    assert statuses[-1] == 429  # the stranger is stopped...
    smtp_sink.clear()
    assert _ask(portal, "ada@example.com", ip="198.51.100.7").status_code == 302
    smtp_sink.wait_for("ada@example.com")  # ...and the person still gets their email


def test_wrong_codes_from_many_ips_end_the_code_but_not_the_link(
    portal, merchant, smtp_sink, client_for
):
    request_link(portal, "ada@example.com")
    path, code = link_and_code(smtp_sink.wait_for("ada@example.com"))
    stranger = client_for("acme")
    with stranger.session_transaction(base_url="http://acme.localhost") as session:
        session["login_email"] = "ada@example.com"
    wrong = "000000" if code != "000000" else "111111"
    for n in range(6):
        assert _guess(stranger, wrong, f"203.0.113.{n + 1}").status_code == 400
    assert _guess(portal, code, "198.51.100.7").status_code == 400  # that code is spent
    confirm = portal.get(path)
    assert confirm.status_code == 200  # the link in the email still signs in
    signed_in = portal.post(path, data={"csrf_token": csrf_from(confirm.text)})
    assert signed_in.status_code == 302 and signed_in.location.endswith("/account")


def test_wrong_codes_across_many_addresses_are_capped_for_the_tenant(
    portal, merchant, smtp_sink, client_for
):
    cap = int(re.match(r"\d+", TENANT_CODE_MISSES).group())
    guesser = client_for("acme")
    for n in range(cap):
        if n % 10 == 0:  # a new address every 10 guesses, a new IP every 30: no other limit
            with guesser.session_transaction(base_url="http://acme.localhost") as session:
                session["login_email"] = f"victim{n // 10}@example.com"
        ip = f"10.{n // 30}.0.1"
        assert _guess(guesser, "123456", ip).status_code == 400, n
    with guesser.session_transaction(base_url="http://acme.localhost") as session:
        session["login_email"] = "someone-else@example.com"
    assert _guess(guesser, "123456", "10.99.0.1").status_code == 429
    # Links are not codes: a customer still signs in by the emailed link meanwhile.
    request_link(portal, "ada@example.com")
    path, _ = link_and_code(smtp_sink.wait_for("ada@example.com"))
    confirm = portal.get(path)
    assert portal.post(path, data={"csrf_token": csrf_from(confirm.text)}).status_code == 302


def _code_statements(app, client, wrong: str) -> list[str]:
    client.get("/login/check")
    with count_queries(app) as statements:
        assert _guess(client, wrong, "198.51.100.9").status_code == 400
    return [re.sub(r"\s+", " ", s) for s in statements]


def test_a_wrong_code_does_the_same_work_whether_or_not_the_address_has_a_code(
    app, portal, merchant, smtp_sink, client_for
):
    """The statements sent for a wrong code are the same, in order, for an address with a live
    code and for one never sent any: no write on one side only (a measurable time difference).
    bench/login_timing.py compares the two time distributions."""
    request_link(portal, "ada@example.com")
    _, code = link_and_code(smtp_sink.wait_for("ada@example.com"))
    wrong = "000001" if code != "000001" else "000002"
    stranger = client_for("acme")
    with stranger.session_transaction(base_url="http://acme.localhost") as session:
        session["login_email"] = "nobody@example.com"
    known = _code_statements(app, portal, wrong)
    unknown = _code_statements(app, stranger, wrong)
    assert known == unknown
    assert any(s.startswith("UPDATE login_tokens SET code_attempts") for s in known)


def test_one_ipv6_network_is_one_client_for_the_limits(acme_portal, tasks_via_redis):
    """Each address of a /56 is not a fresh quota: 20 link requests per 10 minutes in all."""
    statuses = [
        _ask(
            acme_portal, f"someone{n}@example.com", ip=f"2001:db8:0:1{n % 10}::{n + 1}"
        ).status_code
        for n in range(21)
    ]
    assert statuses == [302] * 20 + [429]


def test_junk_requests_do_not_use_up_the_tenants_sign_in_emails(acme_portal, tasks_via_redis):
    """More junk than the tenant's 600 a minute, each from its own IPv4 network."""
    refused = [
        _ask(acme_portal, f"not-an-address-{n}", ip=f"198.18.{n // 200}.{n % 200}").status_code
        for n in range(610)
    ]
    assert set(refused) == {400}
    assert _ask(acme_portal, "ada@example.com", ip="198.51.100.77").status_code == 302


def test_a_strangers_wrong_passwords_do_not_refuse_the_owners_right_one(
    portal, merchant, smtp_sink, client_for
):
    sign_in(portal, smtp_sink, "ada@example.com")
    page = portal.get("/account/password")
    portal.post(
        "/account/password",
        data={"new_password": "correct horse battery", "csrf_token": csrf_from(page.text)},
    )
    stranger = client_for("acme")
    form = stranger.get("/login/password")
    for _ in range(11):
        stranger.post(
            "/login/password",
            data={"email": "ada@example.com", "password": "wrong guess!", "csrf_token":
                  csrf_from(form.text)},
            environ_base={"REMOTE_ADDR": "203.0.113.9"},
        )  # fmt: skip
    owner = client_for("acme")
    form = owner.get("/login/password")
    response = owner.post(
        "/login/password",
        data={"email": "ada@example.com", "password": "correct horse battery",
              "csrf_token": csrf_from(form.text)},
        environ_base={"REMOTE_ADDR": "198.51.100.20"},
    )  # fmt: skip
    assert response.status_code == 302 and response.location.endswith("/account")
