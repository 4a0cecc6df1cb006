"""Per-object locks so two workers never interleave a read-from-Stripe and write of one object."""

from __future__ import annotations

import hashlib

from sqlalchemy import text

from app.extensions import db


def object_lock_key(tenant_id: int, stripe_id: str) -> int:
    """The advisory lock key of one Stripe object of one tenant (64 bits of a hash)."""
    digest = hashlib.blake2b(f"{tenant_id}:{stripe_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_stripe_object(tenant_id: int, stripe_id: str) -> None:
    """Hold a transaction-scoped lock on one Stripe object until commit or rollback.

    PostgreSQL advisory locks; SQLite (the single-process demo) has no concurrent writers.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"),
            {"key": object_lock_key(tenant_id, stripe_id)},
        )


def lock_stripe_objects(tenant_id: int, stripe_ids: list[str]) -> None:
    """lock_stripe_object for many objects in one statement, in a fixed (sorted) order."""
    if not stripe_ids or db.session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({object_lock_key(tenant_id, stripe_id) for stripe_id in stripe_ids})
    db.session.execute(
        text("SELECT pg_advisory_xact_lock(key) FROM unnest(CAST(:keys AS bigint[])) AS key"),
        {"keys": keys},
    )
