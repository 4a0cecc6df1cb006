"""What a merchant's password must be, and how it is stored (exactly as a portal password).

A merchant account reaches a business's whole billing setup, so it asks more than length: none
of the 1,000 most common passwords (common_passwords.txt, shipped in this package), nor the
person's own address.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from werkzeug.security import check_password_hash, generate_password_hash

from app.portal.accounts import MIN_PASSWORD_LENGTH

MAX_PASSWORD_LENGTH = 200
# Checked when the address is unknown, so a miss costs the same time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password-just-timing")


class PasswordRejected(ValueError):
    """The password is not acceptable; the message is for the person choosing it."""


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = files("app.merchant").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def check_new_password(password: str, email: str = "") -> str:
    """Return the password if it may be used, else raise PasswordRejected saying why."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRejected(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordRejected(f"Use at most {MAX_PASSWORD_LENGTH} characters.")
    folded = password.strip().lower()
    if folded in common_passwords():
        raise PasswordRejected(
            "That is one of the most common passwords, the first ones an attacker tries. "
            "Choose another — a few unrelated words make a strong one."
        )
    if email and folded == email.strip().lower():
        raise PasswordRejected("Your password must not be your email address.")
    return password


def hash_password(password: str) -> str:
    return generate_password_hash(password)  # werkzeug's default, as the portal's passwords


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Same work whether or not there is a hash to compare with."""
    if not stored_hash:
        check_password_hash(_DUMMY_HASH, password or "")
        return False
    return check_password_hash(stored_hash, password or "")
