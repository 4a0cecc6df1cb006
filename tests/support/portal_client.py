"""Drive the portal like a person: ask for a link, read the email from the SMTP sink, sign in."""

from __future__ import annotations

import re
from email.message import EmailMessage
from urllib.parse import urljoin, urlsplit

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
LINK_RE = re.compile(r"https?://[^/\s]+(/login/verify/[A-Za-z0-9_-]+)")
CODE_RE = re.compile(r"type this code on the sign-in page: (\d{6})")


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def referer_sent(policy: str, page_url: str, target_url: str) -> str | None:
    """The Referer a browser sends from page_url to target_url under the page's Referrer-Policy
    (the values this app uses), so a test client posts forms as Chromium does."""
    page, target = urlsplit(page_url), urlsplit(target_url)
    same_origin = (page.scheme, page.netloc) == (target.scheme, target.netloc)
    if policy == "no-referrer":
        return None
    if policy == "same-origin":
        return page_url if same_origin else None
    assert policy == "strict-origin-when-cross-origin", f"unexpected Referrer-Policy {policy!r}"
    if same_origin:
        return page_url
    downgrade = page.scheme == "https" and target.scheme != "https"
    return None if downgrade else f"{page.scheme}://{page.netloc}/"


def post_as_browser(client, page, path: str, data: dict):
    """Submit a form of `page` (a response) to `path`: its CSRF token, and the Referer the
    page's Referrer-Policy lets a browser send (Flask-WTF requires one over HTTPS)."""
    page_url = page.request.url
    policy = page.headers.get("Referrer-Policy", "strict-origin-when-cross-origin")
    referer = referer_sent(policy, page_url, urljoin(page_url, path))
    headers = {"Referer": referer} if referer else {}
    return client.post(path, data={"csrf_token": csrf_from(page.text), **data}, headers=headers)


def text_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def request_link(client, email: str):
    page = client.get("/")
    return client.post("/", data={"email": email, "csrf_token": csrf_from(page.text)})


def link_and_code(message: EmailMessage) -> tuple[str, str]:
    text = text_part(message)
    link, code = LINK_RE.search(text), CODE_RE.search(text)
    assert link and code, f"no link/code in email: {text}"
    return link.group(1), code.group(1)


def sign_in(client, smtp_sink, email: str):
    """The whole email-link journey; returns the response of the confirm POST."""
    smtp_sink.clear()
    request_link(client, email)
    path, _ = link_and_code(smtp_sink.wait_for(email))
    confirm = client.get(path)
    return client.post(path, data={"csrf_token": csrf_from(confirm.text)})
