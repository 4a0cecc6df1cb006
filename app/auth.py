"""Flask-Login's user loader: session ids name their kind ("portal:42"), each kind its loader.

Each audience (portal customers, merchants, operators) registers a loader for its kind; a loader
must return None for a user who does not belong to the current host's tenant.
"""

from __future__ import annotations

from collections.abc import Callable

from app.extensions import login_manager

_loaders: dict[str, Callable[[str], object | None]] = {}


def register_user_loader(kind: str, loader: Callable[[str], object | None]) -> None:
    _loaders[kind] = loader


def user_kind(value: str | None) -> str:
    """The audience a session's user id names ("portal", "merchant", "operator"), or ""."""
    return (value or "").partition(":")[0]


@login_manager.user_loader
def load_user(value: str):
    raw_id = (value or "").partition(":")[2]
    loader = _loaders.get(user_kind(value))
    return loader(raw_id) if loader and raw_id else None
