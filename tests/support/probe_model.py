"""A tenant-scoped model that exists only in tests, to prove the scoping hooks on their own."""

from sqlalchemy import String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from tenants.scoping import TenantScoped


class ProbeNote(TenantScoped, db.Model):
    __tablename__ = "test_probe_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(100))


def create_probe_table(database) -> None:
    """As the owner, under the same row-level security as every tenant-owned table."""
    from tenants.rls import enable_rls_statements, grant_app_role
    from tests.support.settings import TEST_APP_ROLE

    with database.owner_engine().begin() as conn:
        ProbeNote.__table__.create(conn, checkfirst=True)
        for statement in enable_rls_statements(ProbeNote.__tablename__):
            conn.execute(text(statement))
        grant_app_role(conn, TEST_APP_ROLE)
