"""A tenant-scoped model that exists only in tests, to prove the scoping hooks on their own."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from tenants.scoping import TenantScoped


class ProbeNote(TenantScoped, db.Model):
    __tablename__ = "test_probe_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(100))


def create_probe_table(app) -> None:
    with app.app_context():
        ProbeNote.__table__.create(db.engine, checkfirst=True)
