"""The OAuth boundary and merchants' own keys, as an app sees them over HTTP."""

from __future__ import annotations

import urllib.parse

import pytest
import requests
import stripe

from tests.emulator.conftest import SECRET_KEY

REDIRECT = "https://billfold.example/callback"


def authorize(emulator, flow: str, decision: str = "allow", account: str = "") -> dict:
    """Open the consent page, answer it, and return the redirect's query parameters."""
    path = "/oauth/v2/authorize" if flow == "apps" else "/oauth/authorize"
    query = {"client_id": "ca_test", "redirect_uri": REDIRECT, "state": "s1"}
    if flow == "connect":
        query |= {"response_type": "code", "scope": "read_write"}
    page = requests.get(emulator.url + path, params=query, timeout=10)
    assert page.status_code == 200
    assert 'value="allow"' in page.text and 'value="deny"' in page.text
    answer = requests.post(
        emulator.url + path,
        data={**query, "decision": decision, "account": account},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def apps_token(emulator, **fields) -> requests.Response:
    return requests.post(
        emulator.url + "/v1/oauth/token", data=fields, auth=(SECRET_KEY, ""), timeout=10
    )


def client(emulator, key: str) -> stripe.StripeClient:
    return stripe.StripeClient(key, base_addresses={"api": emulator.url}, max_network_retries=0)


def test_deny_redirects_with_access_denied_and_the_state(stripe_emulator):
    for flow in ("apps", "connect"):
        answer = authorize(stripe_emulator, flow, decision="deny")
        assert answer == {
            "error": "access_denied",
            "error_description": "The user denied your request",
            "state": "s1",
        }


def test_apps_code_gives_an_expiring_token_on_a_seeded_account(stripe_emulator):
    answer = authorize(stripe_emulator, "apps")
    assert answer["state"] == "s1" and answer["code"].startswith("ac_")
    tokens = apps_token(stripe_emulator, grant_type="authorization_code", code=answer["code"])
    assert tokens.status_code == 200
    body = tokens.json()
    assert body["stripe_user_id"].startswith("acct_")
    assert body["expires_in"] == 3600 and body["token_type"] == "bearer"
    merchant = client(stripe_emulator, body["access_token"])
    assert merchant.v1.accounts.retrieve_current().id == body["stripe_user_id"]
    assert len(merchant.v1.customers.list().data) == 2
    assert len(merchant.v1.subscriptions.list().data) == 1
    assert len(merchant.v1.invoices.list().data) == 2  # the subscription's and the open one

    again = apps_token(stripe_emulator, grant_type="authorization_code", code=answer["code"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_expired_token_answers_401_and_refresh_tokens_are_single_use(stripe_emulator):
    code = authorize(stripe_emulator, "apps")["code"]
    first = apps_token(stripe_emulator, grant_type="authorization_code", code=code).json()
    stripe_emulator.expire_key(first["access_token"])
    with pytest.raises(stripe.AuthenticationError) as expired:
        client(stripe_emulator, first["access_token"]).v1.customers.list()
    assert expired.value.http_status == 401
    assert expired.value.json_body["error"]["code"] == "api_key_expired"

    second = apps_token(
        stripe_emulator, grant_type="refresh_token", refresh_token=first["refresh_token"]
    ).json()
    assert second["stripe_user_id"] == first["stripe_user_id"]
    assert len(client(stripe_emulator, second["access_token"]).v1.customers.list().data) == 2
    spent = apps_token(
        stripe_emulator, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert spent.status_code == 400 and spent.json()["error"] == "invalid_grant"


def test_connect_token_and_deauthorize_send_the_event(stripe_emulator, webhook_endpoint):
    receiver = webhook_endpoint("whsec_connect_oauth", connect=True)
    code = authorize(stripe_emulator, "connect")["code"]
    answer = requests.post(
        stripe_emulator.url + "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "client_secret": SECRET_KEY},
        timeout=10,
    ).json()
    account = answer["stripe_user_id"]
    assert answer["scope"] == "read_write"

    gone = requests.post(
        stripe_emulator.url + "/oauth/deauthorize",
        data={"client_id": "ca_test", "stripe_user_id": account},
        auth=(SECRET_KEY, ""),
        timeout=10,
    )
    assert gone.json() == {"stripe_user_id": account}
    event = receiver.wait_for(
        "whsec_connect_oauth",
        lambda e: (
            e.type == "account.application.deauthorized" and e.to_dict().get("account") == account
        ),
    )
    assert event.data.object.id == "ca_test"
    twice = requests.post(
        stripe_emulator.url + "/oauth/deauthorize",
        data={"client_id": "ca_test", "stripe_user_id": account},
        auth=(SECRET_KEY, ""),
        timeout=10,
    )
    assert twice.status_code == 400 and twice.json()["error"] == "invalid_client"


def test_restricted_key_permissions_publishable_and_revoked_keys(stripe_emulator, new_account_id):
    account = new_account_id()
    key = stripe_emulator.create_key(account, ["customer_write"])
    merchant = client(stripe_emulator, key)
    assert merchant.v1.accounts.retrieve_current().id == account
    merchant.v1.customers.create(params={"email": "a@b.example"})
    assert len(merchant.v1.customers.list().data) == 1  # write includes read
    with pytest.raises(stripe.PermissionError) as refused:
        merchant.v1.invoices.list()
    assert refused.value.http_status == 403
    assert "'rak_invoice_read' permission" in refused.value.user_message
    # The permission is checked before the object is looked up: a probe changes nothing.
    with pytest.raises(stripe.PermissionError):
        merchant.v1.subscriptions.update("sub_missing", params={"metadata": {"a": "b"}})
    with pytest.raises(stripe.InvalidRequestError) as missing:
        merchant.v1.customers.update("cus_missing", params={"metadata": {"a": "b"}})
    assert missing.value.http_status == 404

    with pytest.raises(stripe.AuthenticationError) as publishable:
        client(stripe_emulator, "pk_test_abc").v1.customers.list()
    assert publishable.value.json_body["error"]["code"] == "secret_key_required"
    with pytest.raises(stripe.AuthenticationError):
        client(stripe_emulator, "rk_test_neverissued").v1.customers.list()


def test_events_of_a_key_reach_the_endpoint_created_on_its_account(stripe_emulator, new_account_id):
    from tests.emulator.conftest import WebhookReceiver

    account = new_account_id()
    merchant = client(stripe_emulator, stripe_emulator.create_key(account, kind="secret"))
    receiver = WebhookReceiver()
    try:
        endpoint = merchant.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["customer.created"]}
        )
        assert endpoint.secret.startswith("whsec_")
        customer = merchant.v1.customers.create(params={"email": "own@key.example"})
        event = receiver.wait_for(endpoint.secret, lambda e: e.type == "customer.created")
        assert event.data.object.id == customer.id
        assert "account" not in event.to_dict()
        assert merchant.v1.webhook_endpoints.delete(endpoint.id).deleted is True
        with pytest.raises(stripe.InvalidRequestError):
            merchant.v1.webhook_endpoints.retrieve(endpoint.id)
    finally:
        receiver.close()
