"""Automatic tenant scoping: two tenants, filters nobody has to remember, loud failures."""

import pytest
from sqlalchemy import delete, func, select, update

from app.extensions import db
from tenants.context import NoTenantContext, tenant_context, unscoped
from tests.support.probe_model import ProbeNote


@pytest.fixture
def two_tenants(db_session, make_tenant):
    a, b = make_tenant("alpha"), make_tenant("bravo")
    a_id, b_id = a.id, b.id
    with tenant_context(a_id):
        db.session.add_all([ProbeNote(text="a1"), ProbeNote(text="a2")])
        db.session.commit()
    with tenant_context(b_id):
        db.session.add(ProbeNote(text="b1"))
        db.session.commit()
    db.session.expunge_all()  # no identity-map shortcuts: every read below goes to SQL
    return a_id, b_id


def test_new_rows_are_stamped_with_the_current_tenant(two_tenants):
    a_id, b_id = two_tenants
    with unscoped():
        rows = db.session.execute(select(ProbeNote.text, ProbeNote.tenant_id)).all()
    assert sorted(rows) == [("a1", a_id), ("a2", a_id), ("b1", b_id)]


def test_a_query_in_one_tenant_never_returns_the_others_rows(two_tenants):
    a_id, b_id = two_tenants
    with tenant_context(a_id):
        assert sorted(n.text for n in db.session.scalars(select(ProbeNote))) == ["a1", "a2"]
        assert db.session.scalar(select(func.count(ProbeNote.id))) == 2
    with tenant_context(b_id):
        assert [n.text for n in db.session.scalars(select(ProbeNote))] == ["b1"]


def test_looking_up_another_tenants_id_finds_nothing(two_tenants):
    a_id, b_id = two_tenants
    with unscoped():
        b_note_id = db.session.scalar(select(ProbeNote.id).where(ProbeNote.text == "b1"))
    db.session.expunge_all()
    with tenant_context(a_id):
        found = db.session.scalars(select(ProbeNote).where(ProbeNote.id == b_note_id)).all()
        assert found == []
        assert db.session.get(ProbeNote, b_note_id) is None


def test_bulk_update_and_delete_are_scoped_too(two_tenants):
    a_id, b_id = two_tenants
    with tenant_context(a_id):
        db.session.execute(update(ProbeNote).values(text="changed"))
        db.session.execute(delete(ProbeNote).where(ProbeNote.text == "b1"))
    with unscoped():
        texts = sorted(db.session.scalars(select(ProbeNote.text)))
    assert texts == ["b1", "changed", "changed"]


def test_query_with_no_tenant_in_context_raises(two_tenants):
    with pytest.raises(NoTenantContext):
        db.session.scalars(select(ProbeNote)).all()


def test_writing_with_no_tenant_in_context_raises(db_session):
    db.session.add(ProbeNote(text="orphan"))
    with pytest.raises(NoTenantContext):
        db.session.flush()
    db.session.rollback()


def test_writing_a_row_of_another_tenant_raises(two_tenants):
    a_id, b_id = two_tenants
    with tenant_context(a_id):
        db.session.add(ProbeNote(text="smuggled", tenant_id=b_id))
        with pytest.raises(NoTenantContext):
            db.session.flush()
        db.session.rollback()


def test_unscoped_still_refuses_a_row_without_tenant(db_session):
    with unscoped():
        db.session.add(ProbeNote(text="orphan"))
        with pytest.raises(NoTenantContext):
            db.session.flush()
        db.session.rollback()


def test_request_on_a_tenant_host_sets_that_tenants_context(two_tenants, app):
    from flask import g

    from tenants.context import current_tenant_id
    from tenants.resolution import clear_tenant, resolve_tenant

    a_id, _ = two_tenants
    with app.test_request_context("/", base_url="http://alpha.localhost"):
        resolve_tenant()
        assert g.tenant.subdomain == "alpha"
        assert current_tenant_id() == a_id
        assert [n.text for n in db.session.scalars(select(ProbeNote).order_by(ProbeNote.text))] == [
            "a1",
            "a2",
        ]
        clear_tenant()
        assert current_tenant_id() is None  # teardown resets it for the next request


# Every statement shape that names a tenant-owned table is filtered, not just entity columns.
def _shapes(b_note_id: int) -> dict:
    from sqlalchemy import exists, literal
    from sqlalchemy.orm import aliased

    other = aliased(ProbeNote)
    return {
        "count from select_from": select(func.count()).select_from(ProbeNote),
        "exists": select(exists().where(ProbeNote.id == b_note_id)),
        "literal from": select(literal(1)).select_from(ProbeNote),
        "scalar subquery": select(literal(1), select(func.count(ProbeNote.id)).scalar_subquery()),
        "in subquery": select(literal(1)).where(literal(b_note_id).in_(select(ProbeNote.id))),
        "aliased": select(other.id).where(other.id == b_note_id),
        "cte": select(select(ProbeNote.id).where(ProbeNote.id == b_note_id).cte().c.id),
        # each side of a join is filtered on its own: 2 x 2 of tenant A's notes, not 3 x 3
        "self-join": select(func.count()).select_from(ProbeNote).join(other, literal(True)),
    }


def _b_note_id() -> int:
    with unscoped():
        return db.session.scalar(select(ProbeNote.id).where(ProbeNote.text == "b1"))


def test_every_statement_shape_sees_only_its_tenants_rows(two_tenants):
    a_id, _ = two_tenants
    b_note_id = _b_note_id()
    with tenant_context(a_id):
        results = {name: db.session.execute(s).all() for name, s in _shapes(b_note_id).items()}
    assert results == {
        "count from select_from": [(2,)],
        "exists": [(False,)],
        "literal from": [(1,), (1,)],
        "scalar subquery": [(1, 2)],
        "in subquery": [],
        "aliased": [],
        "cte": [],
        "self-join": [(4,)],
    }


def test_every_statement_shape_needs_a_tenant(two_tenants):
    b_note_id = _b_note_id()
    for name, statement in _shapes(b_note_id).items():
        with pytest.raises(NoTenantContext):
            db.session.execute(statement)
            pytest.fail(f"{name} ran with no tenant in context")


def test_a_core_table_reference_is_refused_even_with_a_tenant(two_tenants):
    from tenants.scoping import UnscopableStatement

    a_id, _ = two_tenants
    table = ProbeNote.__table__
    with tenant_context(a_id):
        with pytest.raises(UnscopableStatement):
            db.session.execute(select(table.c.id))
        with pytest.raises(UnscopableStatement):
            db.session.execute(select(func.count()).select_from(table))
        with pytest.raises(UnscopableStatement):
            db.session.execute(update(table).values(text="x"))
    with pytest.raises(NoTenantContext):
        db.session.execute(select(table.c.id))


# A statement built once and executed again and again (as pages' queries are) keeps one filtered
# copy per tenant; the copy must never answer for another tenant or for unscoped code.
_PREBUILT = select(ProbeNote.text).order_by(ProbeNote.text)


def test_a_prebuilt_statement_answers_each_tenant_with_its_own_rows(two_tenants):
    a_id, b_id = two_tenants
    seen = []
    for tenant_id in (a_id, b_id, a_id, b_id, a_id):
        with tenant_context(tenant_id):
            seen.append(db.session.scalars(_PREBUILT).all())
    with unscoped():
        everything = db.session.scalars(_PREBUILT).all()
    assert seen == [["a1", "a2"], ["b1"], ["a1", "a2"], ["b1"], ["a1", "a2"]]
    assert everything == ["a1", "a2", "b1"]
    with pytest.raises(NoTenantContext):
        db.session.scalars(_PREBUILT).all()


def test_the_filtered_copy_is_kept_only_for_statements_executed_again(two_tenants):
    from tenants.scoping import _filtered, _remember

    def _scoped_statement(statement, tenant_id):
        return _filtered(statement, *_remember(statement), tenant_id)

    a_id, b_id = two_tenants
    statement = select(ProbeNote.id).where(ProbeNote.text == "a1")
    first, second, third = (_scoped_statement(statement, a_id) for _ in range(3))
    assert first is not statement and second is third  # kept from the second execution on
    assert _scoped_statement(statement, b_id) is not third  # another tenant, another copy
    with tenant_context(b_id):
        assert db.session.scalars(statement).all() == []
    with tenant_context(a_id):
        assert len(db.session.scalars(statement).all()) == 1
