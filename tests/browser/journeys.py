"""A person in the browser: asks for a link, reads the email, signs in; takes screenshots."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Page, Response, expect

from tests.browser.audit import assert_accessible
from tests.support.portal_client import LINK_RE, html_part, link_and_code, text_part
from tests.support.smtp_sink import SmtpSink

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PUBLIC_HOST = re.compile(r"^https?://[a-z0-9.-]+\.localhost(:\d+)?/")
# For a journey that must hold on production's HTTPS settings as well as on plain HTTP.
over_http_and_https = pytest.mark.parametrize("portal_server", ["http", "https"], indirect=True)


@dataclass
class Visitor:
    page: Page
    mailbox: SmtpSink
    shop: object  # tests.portal.conftest.Merchant
    screenshots: Path
    platform_url: str  # the live server's own host, which needs no *.localhost resolution
    site_url: str  # the shop's portal on the site this browser uses (http or https)

    def ask_for_link(self, email: str) -> EmailMessage:
        """Type the address on the login page; return the email the worker sends for it."""
        self.mailbox.clear()
        self.page.goto("/")
        self.page.get_by_label("Email address").fill(email)
        self.page.get_by_role("button", name="Email me a sign-in link").click()
        expect(self.page.get_by_role("heading", level=1)).to_have_text("Check your email")
        return self.mailbox.wait_for(email)

    def open_link(self, message: EmailMessage) -> Response:
        """Follow the emailed link: as written when it is for this site (the HTTPS one, as in
        production), else its path on this site."""
        link = LINK_RE.search(text_part(message)).group(0)
        path, _ = link_and_code(message)
        response = self.page.goto(link if link.startswith(self.site_url + "/") else path)
        expect(self.page.get_by_role("heading", level=1)).to_contain_text("Sign in to")
        return response

    def sign_in(self, email: str = "ada@example.com") -> None:
        """The email-link journey, ending on the account page."""
        self.open_link(self.ask_for_link(email))
        self.page.get_by_role("button", name="Continue to my account").click()
        expect(self.page).to_have_url(re.compile(r"/account$"))

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="Sign out", exact=True).click()
        expect(self.page.get_by_role("status")).to_have_text("You are signed out.")

    def shoot(self, name: str, page: Page | None = None) -> None:
        """The page, full length, at desktop and at phone width."""
        page = page or self.page
        self.screenshots.mkdir(parents=True, exist_ok=True)
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            page.screenshot(path=self.screenshots / f"{name}-{label}.png", full_page=True)
        page.set_viewport_size(DESKTOP)

    def check(self, name: str) -> None:
        """Screenshots of the page as it is, then its accessibility basics (which move focus)."""
        self.shoot(name)
        assert_accessible(self.page)

    def shoot_email(self, name: str, message: EmailMessage) -> None:
        """An email's HTML part as a mail client shows it: in its own page, without our CSP."""
        mail = self.page.context.new_page()
        # The worker writes asset URLs for the public host: fetch them from the live server.
        mail.route(PUBLIC_HOST, lambda route: route.fulfill(
            response=route.fetch(url=PUBLIC_HOST.sub(self.platform_url + "/", route.request.url))
        ))  # fmt: skip
        mail.set_content(html_part(message), wait_until="load")
        self.shoot(name, mail)
        mail.close()
