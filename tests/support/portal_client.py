"""Drive the portal like a person: ask for a link, read the email from the SMTP sink, sign in."""

from __future__ import annotations

import re
from email.message import EmailMessage

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
LINK_RE = re.compile(r"https?://[^/\s]+(/login/verify/[A-Za-z0-9_-]+)")
CODE_RE = re.compile(r"type this code on the sign-in page: (\d{6})")


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


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
