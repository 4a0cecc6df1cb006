"""The README's first command: the demo starts, seeds Acme Rockets and lets Ada sign in."""

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.local_services.processes import free_port

ROOT = Path(__file__).resolve().parents[1]


def fetch(url: str, host: str, data: bytes | None = None, cookie: str = "") -> tuple[int, str, str]:
    request = urllib.request.Request(url, data=data, headers={"Host": host, "Cookie": cookie})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read().decode(), response.headers.get("Set-Cookie", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers.get("Set-Cookie", "")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    log = tmp_path_factory.mktemp("demo") / "demo.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.demo", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if "Billfold demo is running" in log.read_text():
            break
        assert process.poll() is None, log.read_text()
        time.sleep(0.2)
    time.sleep(0.5)
    yield port, log
    process.terminate()
    process.wait(timeout=10)


def test_demo_serves_the_seeded_portal_and_a_mailbox(demo):
    port, log = demo
    base = f"http://127.0.0.1:{port}"
    acme = f"acme.localhost:{port}"
    status, page, cookie = fetch(f"{base}/", acme)
    assert status == 200 and "Acme Rockets" in page, log.read_text()
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    session = cookie.split(";")[0]
    body = f"email=ada%40example.com&csrf_token={csrf}".encode()
    status, _, cookie = fetch(f"{base}/", acme, data=body, cookie=session)
    assert status == 302
    session = cookie.split(";")[0] or session
    status, inbox, _ = fetch(f"{base}/dev/mailbox/", f"localhost:{port}")
    assert status == 200 and "ada@example.com" in inbox
    message_path = re.search(r'href="(/dev/mailbox/\d+)"', inbox).group(1)
    status, email_html, _ = fetch(f"{base}{message_path}", f"localhost:{port}")
    link = re.search(r'href="http://[^/]+(/login/verify/[^"]+)"', email_html).group(1)
    status, confirm, _ = fetch(f"{base}{link}", acme, cookie=session)
    assert status == 200
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', confirm).group(1)
    status, _, cookie = fetch(
        f"{base}{link}", acme, data=f"csrf_token={csrf}".encode(), cookie=session
    )
    assert status == 302
    status, account, _ = fetch(f"{base}/account", acme, cookie=cookie.split(";")[0])
    assert status == 200
    for text in ("Ada Lovelace", "Analytical Lab", "Rocket Pro", "Extra launch pads", "Trial"):
        assert text in account, text


def test_demo_outside_a_checkout_says_where_to_run_it(tmp_path):
    # The installed package has no Stripe emulator: started from elsewhere, the demo says so.
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.pop("PYTHONPATH", None)
    result = subprocess.run(
        [sys.executable, "-m", "app.demo", "--port", str(free_port())],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "run it from a checkout of Billfold (bash scripts/demo.sh)" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_seeds_a_merchant_who_signs_in_to_the_dashboard(demo):
    port, log = demo
    base = f"http://127.0.0.1:{port}"
    platform = f"localhost:{port}"
    printed = log.read_text()
    assert "sign in as merchant@example.com, password acme-rockets-demo" in printed
    status, page, cookie = fetch(f"{base}/dashboard/login", platform)
    assert status == 200
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    body = f"email=merchant%40example.com&password=acme-rockets-demo&csrf_token={csrf}"
    status, _, cookie = fetch(
        f"{base}/dashboard/login", platform, data=body.encode(), cookie=cookie.split(";")[0]
    )
    assert status == 302
    status, home, _ = fetch(f"{base}/dashboard", platform, cookie=cookie.split(";")[0])
    assert status == 200 and f"http://acme.localhost:{port}/" in home
    assert "Your portal is live" in home
    # The demo's customers have used the portal: the Activity page has figures (in SQLite).
    status, activity, _ = fetch(f"{base}/dashboard/activity", platform, cookie=cookie.split(";")[0])
    assert status == 200 and 'Too expensive</th><td class="num">1</td>' in activity
    assert "0 actions" not in activity and "Nothing yet" not in activity


def test_demo_seeds_a_member_without_the_owners_pages(demo):
    port, log = demo
    base = f"http://127.0.0.1:{port}"
    platform = f"localhost:{port}"
    assert "member@example.com, password acme-rockets-member" in log.read_text()
    status, page, cookie = fetch(f"{base}/dashboard/login", platform)
    body = f"email=member%40example.com&password=acme-rockets-member&csrf_token={_csrf(page)}"
    status, _, cookie = fetch(
        f"{base}/dashboard/login", platform, data=body.encode(), cookie=cookie.split(";")[0]
    )
    assert status == 302
    status, home, _ = fetch(f"{base}/dashboard", platform, cookie=cookie.split(";")[0])
    assert status == 200 and "Acme Rockets" in home
    assert 'href="/dashboard/team"' not in home and 'href="/dashboard/connect"' not in home
    status, _, _ = fetch(f"{base}/dashboard/team", platform, cookie=cookie.split(";")[0])
    assert status == 403


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_a_newcomer_signs_up_connects_through_the_emulator_and_opens_the_portal(demo):
    """The demo's own settings point the OAuth pages at the emulator: a second merchant signs
    up, verifies from the mailbox, installs the app on the emulator's Allow page, sees the copy
    done and the portal live with the seeded customers' data."""
    import requests

    port, log = demo
    base = f"http://localhost:{port}"
    emulator = re.search(r"Stripe emulator:\s+(\S+)", log.read_text()).group(1)
    browser = requests.Session()
    page = browser.get(f"{base}/dashboard/signup").text
    fields = {
        "business_name": "Comet Candles",
        "name": "Cora Comet",
        "email": "cora@example.com",
        "password": "orbital-pancake-velvet",
        "subdomain": "comet",
        "csrf_token": _csrf(page),
    }
    assert browser.post(f"{base}/dashboard/signup", data=fields).status_code == 200
    inbox = browser.get(f"{base}/dev/mailbox/").text
    verify = None
    for path in re.findall(r'href="(/dev/mailbox/\d+)"', inbox):
        found = re.search(r"/dashboard/verify/[A-Za-z0-9_-]+", browser.get(base + path).text)
        if found:
            verify = found.group(0)
            break
    assert verify, "no verification email in the mailbox"
    page = browser.get(base + verify).text
    browser.post(base + verify, data={"csrf_token": _csrf(page)})
    page = browser.get(f"{base}/dashboard/login").text
    login = {"email": "cora@example.com", "password": fields["password"], "csrf_token": _csrf(page)}
    assert browser.post(f"{base}/dashboard/login", data=login).url.endswith("/dashboard")

    page = browser.get(f"{base}/dashboard/connect").text
    assert "Install the app on Stripe" in page and "Connect with Stripe" in page
    start = browser.post(
        f"{base}/dashboard/connect/stripe_app/start",
        data={"csrf_token": _csrf(page)},
        allow_redirects=False,
    )
    assert start.status_code == 303 and start.headers["Location"].startswith(emulator)
    consent = browser.get(start.headers["Location"])
    assert consent.status_code == 200 and "Install app" in consent.text
    hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', consent.text))
    allowed = browser.post(
        consent.url.split("?")[0], data={**hidden, "decision": "allow", "account": ""}
    )
    assert allowed.url == f"{base}/dashboard/connect", allowed.url
    assert "Your Stripe account is connected" in allowed.text
    report = browser.get(f"{base}/dashboard/sync.json").json()
    assert report["status"] == "done", report
    home = browser.get(f"{base}/dashboard").text
    assert "Your portal is live" in home and f"http://comet.localhost:{port}/" in home
    status, portal, _ = fetch(f"http://127.0.0.1:{port}/", f"comet.localhost:{port}")
    assert status == 200 and "Comet Candles" in portal


def test_demo_seeds_an_operator_who_signs_in_with_the_printed_code_and_finds_a_failed_event(
    demo,
):
    port, log = demo
    base, platform = f"http://127.0.0.1:{port}", f"localhost:{port}"
    assert "sign in as ops@example.com, password billfold-ops-demo" in log.read_text()
    status, page, cookie = fetch(f"{base}/ops/login", platform)
    assert status == 200
    cookie = cookie.split(";")[0]
    body = f"email=ops%40example.com&password=billfold-ops-demo&csrf_token={_csrf(page)}"
    status, _, set_cookie = fetch(f"{base}/ops/login", platform, data=body.encode(), cookie=cookie)
    assert status == 302
    cookie = (set_cookie or cookie).split(";")[0]
    status, page, _ = fetch(f"{base}/ops/login/code", platform, cookie=cookie)
    code = subprocess.run(
        [sys.executable, "-m", "app.demo", "code"], capture_output=True, text=True, check=True
    ).stdout.strip()
    body = f"code={code}&csrf_token={_csrf(page)}"
    status, _, set_cookie = fetch(
        f"{base}/ops/login/code", platform, data=body.encode(), cookie=cookie
    )
    assert status == 302
    cookie = (set_cookie or cookie).split(";")[0]
    status, console, _ = fetch(f"{base}/ops/", platform, cookie=cookie)
    assert status == 200 and "acme" in console
    assert re.search(r"[Ff]ailing|failed event", console)
