"""The one error the connection services raise: a plain sentence for the merchant."""

from __future__ import annotations


class ConnectionRefused(Exception):
    """The account was not connected (or disconnected); nothing was saved. `message` says why
    in the merchant's words, and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


UNREACHABLE = "Stripe could not be reached, so nothing was changed. Please try again in a minute."
UNEXPECTED = (
    "Stripe gave an answer Billfold could not understand, so nothing was changed. Please try "
    "again in a minute."
)
