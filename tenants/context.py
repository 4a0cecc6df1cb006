"""The tenant a piece of code acts for: set per request or per task, read by the ORM hooks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_current_tenant_id: ContextVar[int | None] = ContextVar("billfold_tenant_id", default=None)
_unscoped: ContextVar[bool] = ContextVar("billfold_unscoped", default=False)


class NoTenantContext(RuntimeError):
    """A tenant-scoped model was touched with no tenant in context and no explicit opt-out."""


def current_tenant_id() -> int | None:
    return _current_tenant_id.get()


def is_unscoped() -> bool:
    return _unscoped.get()


def set_tenant_id(tenant_id: int | None):
    """Set the tenant for the rest of this context; returns a token for reset_tenant_id."""
    return _current_tenant_id.set(tenant_id)


def reset_tenant_id(token) -> None:
    _current_tenant_id.reset(token)


@contextmanager
def tenant_context(tenant_id: int) -> Iterator[None]:
    """Run a block as one tenant (workers, CLI, tests)."""
    token = _current_tenant_id.set(tenant_id)
    unscoped_token = _unscoped.set(False)
    try:
        yield
    finally:
        _unscoped.reset(unscoped_token)
        _current_tenant_id.reset(token)


@contextmanager
def unscoped() -> Iterator[None]:
    """Deliberately see every tenant's rows: operators and workers that iterate tenants."""
    token = _unscoped.set(True)
    try:
        yield
    finally:
        _unscoped.reset(token)
