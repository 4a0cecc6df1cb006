"""Encryption at rest for Stripe credentials: MultiFernet keys from config, rotatable."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator


class CredentialError(RuntimeError):
    """Stored credentials cannot be decrypted with the configured keys."""


class Keyring:
    """The configured Fernet keys; the first one encrypts, every one decrypts."""

    def __init__(self, keys: list[str], lookup_secret: str) -> None:
        if not keys:
            raise CredentialError("no encryption keys configured")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        self._lookup_secret = lookup_secret.encode()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise CredentialError("a stored credential does not decrypt with any key") from None

    def rotate(self, token: str) -> str:
        """Re-encrypt a token under the newest key (the first in the list)."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise CredentialError("a stored credential does not decrypt with any key") from None

    def lookup_hash(self, value: str) -> str:
        """A keyed hash of a value, so an encrypted column can still be looked up by equality."""
        return hmac.new(self._lookup_secret, value.encode(), hashlib.sha256).hexdigest()


_keyring: Keyring | None = None


def configure_keyring(keys: list[str], lookup_secret: str) -> Keyring:
    global _keyring
    _keyring = Keyring(keys, lookup_secret)
    return _keyring


def keyring() -> Keyring:
    if _keyring is None:
        raise CredentialError("encryption keys are not configured (create_app not called)")
    return _keyring


class EncryptedText(TypeDecorator):
    """A text column stored as a Fernet token and read back as plain text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else keyring().encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else keyring().decrypt(value)


def render_migration_item(type_, obj, autogen_context):
    """Alembic hook: write encrypted columns as plain Text so migrations never import app code."""
    if type_ == "type" and isinstance(obj, EncryptedText):
        return "sa.Text()"
    return False
