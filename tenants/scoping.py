"""Automatic tenant scoping: every ORM statement that touches a tenant-owned table is filtered.

A forgotten filter cannot leak rows: the filter is added by a session hook, not by the caller, to
every statement that names a TenantScoped table anywhere — selected entities, `select_from`,
`exists()`, scalar subqueries, joins, CTEs. Touching such a table with no tenant in context raises
NoTenantContext, unless the code has said `with unscoped():` (operators, workers that iterate
tenants). A statement that reaches a tenant-owned table through its Core `Table` (which the ORM
cannot filter) is refused outright. On PostgreSQL, row-level security enforces the same rule a
second time (tenants/rls.py), so even raw SQL sees only its tenant's rows.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import ForeignKey, Integer, event
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, with_loader_criteria
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter, ColumnClause
from sqlalchemy.sql.selectable import Alias, TableClause

from tenants.context import NoTenantContext, current_tenant_id, is_unscoped, unscoped


class UnscopableStatement(NoTenantContext):
    """A statement names a tenant-owned table in a way the ORM cannot filter (its Core Table)."""


class TenantScoped:
    """Mixin for every tenant-owned model: adds tenant_id and opts into automatic scoping."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)


# A table's `info` key saying it belongs to the platform although it names a tenant (merchant
# accounts: read before any tenant is chosen, on the platform host). Neither layer scopes it;
# every query of one filters by the signed-in merchant's tenant itself.
PLATFORM_LEVEL = "platform_level"


def is_tenant_owned(table) -> bool:
    return "tenant_id" in table.c and not getattr(table, "info", {}).get(PLATFORM_LEVEL)


def tenant_owned_table_names(metadata) -> list[str]:
    """Every tenant-owned table (a tenant_id column, not marked platform-level): the ones
    row-level security must cover."""
    return sorted(t.name for t in metadata.sorted_tables if is_tenant_owned(t))


def _scoped_table(element) -> TableClause | None:
    """The tenant-owned table an element is or belongs to (a table, or one of its columns)."""
    table = element if isinstance(element, TableClause | Alias) else None
    if table is None and isinstance(element, ColumnClause):
        table = element.table
    while isinstance(table, Alias):  # aliased(Model): the table under the alias
        table = table.element
    if not isinstance(table, TableClause) or not is_tenant_owned(table):
        return None
    return table


# Statements are immutable and the hot ones are built once (module constants, cached per
# model), so what the filter works out for one is remembered by the statement object: the
# tenant-owned tables it names (walking it again cost about 0.1 ms a query) and, from its second
# execution on, its filtered copy per tenant (a filtered statement is a new object, whose cache
# key SQLAlchemy works out again at each execution: about 0.3 ms a statement on the portal's
# pages). A statement built per call dies after its one execution, leaving no copy of its
# values. Each record holds its statement weakly (it keeps nothing alive, and a dead one's id
# reused by a new statement finds its reference dead); full, the memory is dropped.
_REMEMBERED = 1024
_FILTERED_COPIES = 2048


@dataclass(slots=True)
class _Statement:
    ref: weakref.ref
    touched: frozenset[str]  # the tenant-owned tables it names
    core_only: frozenset[str]  # those named only through their Core Table, not the ORM
    filtered: dict[int, object] = field(default_factory=dict)  # tenant id -> filtered copy


_remembered: dict[int, _Statement] = {}
_copies = 0


def _remember(statement) -> tuple[_Statement, bool]:
    """The record of `statement`, and whether it was executed before."""
    record = _remembered.get(id(statement))
    if record is not None and record.ref() is statement:
        return record, True
    touched: set[str] = set()
    through_orm: set[str] = set()
    for element in visitors.iterate(statement):
        table = _scoped_table(element)
        if table is None:
            continue
        touched.add(table.name)
        if "parententity" in element._annotations or "parententity" in table._annotations:
            through_orm.add(table.name)
    record = _Statement(
        weakref.ref(statement), frozenset(touched), frozenset(touched - through_orm)
    )
    if len(_remembered) >= _REMEMBERED:
        _forget_statements()
    _remembered[id(statement)] = record
    return record, False


def _filtered(statement, record: _Statement, seen_before: bool, tenant_id: int):
    """`statement` filtered to `tenant_id`: the same object each time once it is kept."""
    global _copies
    copy = record.filtered.get(tenant_id)
    if copy is not None:
        return copy
    copy = statement.options(_tenant_criteria(tenant_id))
    if seen_before:
        if _copies >= _FILTERED_COPIES:
            _forget_statements()
        record.filtered[tenant_id] = copy
        _copies += 1
    return copy


def _forget_statements() -> None:
    global _copies
    _remembered.clear()
    _copies = 0


def _add_tenant_filter(state):
    if state.is_column_load:
        # A refresh, by primary key, of a row this session already loaded through a filtered
        # query (an attribute read after commit): no tenant choice is made here, so outside any
        # tenant's context it may read past row-level security.
        if current_tenant_id() is None and not is_unscoped():
            with unscoped():
                return state.invoke_statement()
        return None
    statement = state.statement
    record, seen_before = _remember(statement)
    touched, core_only = record.touched, record.core_only
    if not touched or is_unscoped():
        return None
    tenant_id = current_tenant_id()
    if tenant_id is None:
        names = ", ".join(sorted(touched))
        raise NoTenantContext(f"statement on {names} with no tenant in context")
    if state.is_insert:
        return None  # rows are stamped or checked before the flush; PostgreSQL checks them again
    if core_only:
        raise UnscopableStatement(
            f"{', '.join(sorted(core_only))} reached through its Core table, which cannot be "
            "filtered by tenant: use the model's attributes"
        )
    state.statement = _filtered(statement, record, seen_before, tenant_id)
    return None


class _TenantBind(BindParameter):
    """The tenant id bound into every filtered statement, compared by hash in Python.

    The loader option applies the criterion to each entity of a statement, each with its own
    annotated copy of this one parameter, and all of them hash alike. At every execution
    SQLAlchemy looks the cached statement's parameters up in a dictionary keyed by parameter;
    the copies collide there, and a plain BindParameter answers `==` by building a SQL
    comparison whose truth is that same hash comparison (a tenth of a six-entity query's cost).
    This answers it directly. In SQL, `Model.tenant_id == bind` is still the column's operator.
    """

    inherit_cache = True

    def __eq__(self, other: object) -> bool:  # type: ignore[override]
        return hash(self) == hash(other)

    __hash__ = BindParameter.__hash__


@lru_cache(maxsize=4096)
def _tenant_criteria(tenant_id: int):
    """The loader option that filters a statement to one tenant, built once per tenant: every
    query of the app gets one, and building it anew was a fifth of a short query's cost."""
    tenant = _TenantBind("tenant_scope", tenant_id, type_=Integer)
    return with_loader_criteria(
        TenantScoped, lambda cls: cls.tenant_id == tenant, include_aliases=True
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


def install_scoping_hooks() -> None:
    """Register the hooks on every SQLAlchemy Session (idempotent)."""
    if not event.contains(Session, "do_orm_execute", _add_tenant_filter):
        event.listen(Session, "do_orm_execute", _add_tenant_filter)
        event.listen(Session, "before_flush", _stamp_tenant)
