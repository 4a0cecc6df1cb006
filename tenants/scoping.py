"""Automatic tenant scoping: every ORM query of a TenantScoped model is filtered by tenant.

A forgotten filter cannot leak rows: the filter is added by a session hook, not by the caller.
Querying a scoped model with no tenant in context raises NoTenantContext, unless the code has
said `with unscoped():` (operators, workers that iterate tenants).
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import ForeignKey, Integer, event
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, with_loader_criteria

from tenants.context import NoTenantContext, current_tenant_id, is_unscoped


class TenantScoped:
    """Mixin for every tenant-owned model: adds tenant_id and opts into automatic scoping."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)


def _touches_scoped_model(state) -> bool:
    return any(issubclass(mapper.class_, TenantScoped) for mapper in state.all_mappers)


def _add_tenant_filter(state) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or not _touches_scoped_model(state):
        return
    if is_unscoped():
        return
    tenant_id = current_tenant_id()
    if tenant_id is None:
        names = sorted(m.class_.__name__ for m in state.all_mappers)
        raise NoTenantContext(f"query on {', '.join(names)} with no tenant in context")
    state.statement = state.statement.options(_tenant_criteria(tenant_id))


@lru_cache(maxsize=4096)
def _tenant_criteria(tenant_id: int):
    """The loader option that filters a statement to one tenant, built once per tenant: every
    query of the app gets one, and building it anew was a fifth of a short query's cost."""
    return with_loader_criteria(
        TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True
    )


def _stamp_tenant(session: Session, flush_context, instances) -> None:
    if is_unscoped():
        # Operators and workers set tenant_id themselves; still refuse a row without one.
        for obj in session.new:
            if isinstance(obj, TenantScoped) and obj.tenant_id is None:
                raise NoTenantContext(f"new {type(obj).__name__} has no tenant_id")
        return
    tenant_id = current_tenant_id()
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantScoped):
            continue
        if tenant_id is None:
            raise NoTenantContext(f"{type(obj).__name__} written with no tenant in context")
        if obj.tenant_id is None:
            obj.tenant_id = tenant_id
        elif obj.tenant_id != tenant_id:
            raise NoTenantContext(
                f"{type(obj).__name__} of tenant {obj.tenant_id} written as tenant {tenant_id}"
            )


_installed = False


def install_scoping_hooks() -> None:
    """Register the hooks on every SQLAlchemy Session (idempotent)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "do_orm_execute", _add_tenant_filter)
    event.listen(Session, "before_flush", _stamp_tenant)
    _installed = True
