"""Row-level security: PostgreSQL enforces tenant isolation a second time, below the ORM.

Every tenant-owned table has RLS enabled and FORCEd (so it binds the table's owner too) with one
policy: a row is visible and writable only when its tenant_id equals the transaction's
`billfold.tenant_id` setting, or when the transaction says `billfold.bypass = on`. Both settings
are transaction-local (`set_config(..., true)`, i.e. SET LOCAL): they end with the transaction and
never leak to the next user of a pooled connection.

The app never sets them by hand. A cursor hook compares what the code's context asks for — the
tenant of `tenant_context(...)` or the bypass of `with unscoped():` — with what this transaction
already has and, only when they differ, puts a `set_config` in front of the statement about to be
sent, in the same message: no extra round trip. A query that forgot its filter (raw SQL
included) therefore sees its own tenant's rows only, and with no tenant in context, none at all.

Only superusers and roles with BYPASSRLS escape the policies, so the app must connect as an
ordinary role (see `grant_app_role`). SQLite (the demo) has no RLS: there the ORM layer
(tenants/scoping.py) is the only one.
"""

from __future__ import annotations

from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from tenants.context import current_tenant_id, is_unscoped

TENANT_SETTING = "billfold.tenant_id"
BYPASS_SETTING = "billfold.bypass"
POLICY_NAME = "tenant_isolation"
# The migration that enables RLS writes this predicate out literally (migrations never import
# app code); tests/test_rls.py checks that the database's policies say the same.
PREDICATE = (
    f"current_setting('{BYPASS_SETTING}', true) = 'on' "
    f"OR tenant_id = NULLIF(current_setting('{TENANT_SETTING}', true), '')::integer"
)

_STATE = "billfold_rls_scope"
# Only digits and "on" are ever put in: safe as literals, and free of the driver's % markers.
_SET_SCOPE = (
    f"SELECT set_config('{TENANT_SETTING}', '{{}}', true), "
    f"set_config('{BYPASS_SETTING}', '{{}}', true); "
)
_NONE = ("", "")
# Savepoint statements reach the cursor too; one may follow a failed statement, when the
# transaction accepts nothing else.
_TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE", "ROLLBACK")


def _wanted_scope() -> tuple[str, str]:
    if is_unscoped():
        return ("", "on")
    tenant_id = current_tenant_id()
    return _NONE if tenant_id is None else (str(int(tenant_id)), "")


def _apply_scope(conn, cursor, statement, parameters, context, executemany):
    """Prefix the statement with the settings it needs (libpq runs both in one message and the
    driver reports the last one's rows and row count, so nothing else notices)."""
    if conn.dialect.name != "postgresql" or statement.startswith(_TRANSACTION_CONTROL):
        return statement, parameters
    wanted = _wanted_scope()
    if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        # Each statement is its own transaction: set it every time it matters.
        if wanted == _NONE:
            return statement, parameters
        return _SET_SCOPE.format(*wanted) + statement, parameters
    # No record means "not known": the settings are sent, even an empty pair.
    if conn.info.get(_STATE) == wanted:
        return statement, parameters
    conn.info[_STATE] = wanted
    return _SET_SCOPE.format(*wanted) + statement, parameters


def _transaction_ended(conn, *args) -> None:
    """Commit or rollback: the transaction-local settings are gone."""
    if conn.invalidated:
        return  # the connection died: its next one starts with nothing set (_checked_out)
    conn.info[_STATE] = _NONE


def _settings_unknown(conn, *args) -> None:
    """A savepoint rolled back puts back whatever the settings were before it, and a statement
    that failed (even one the driver refused before sending) may not have set them: send them
    again with the next statement."""
    conn.info.pop(_STATE, None)


def _statement_failed(context) -> None:
    if context.connection is not None:
        _settings_unknown(context.connection)


def _checked_out(dbapi_connection, connection_record, *args) -> None:
    connection_record.info[_STATE] = _NONE  # a fresh transaction: nothing set


def install_rls_hooks() -> None:
    """Register the hooks on every engine (idempotent); they act on PostgreSQL only."""
    if event.contains(Engine, "before_cursor_execute", _apply_scope):
        return
    event.listen(Engine, "before_cursor_execute", _apply_scope, retval=True)
    for name in ("commit", "rollback"):
        event.listen(Engine, name, _transaction_ended)
    event.listen(Engine, "rollback_savepoint", _settings_unknown)
    event.listen(Engine, "handle_error", _statement_failed)
    event.listen(Engine, "checkout", _checked_out)


def enable_rls_statements(table: str) -> list[str]:
    """The statements that put one tenant-owned table under the policy (new tables too)."""
    return [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
        f'CREATE POLICY {POLICY_NAME} ON "{table}" USING ({PREDICATE}) WITH CHECK ({PREDICATE})',
    ]


def grant_app_role(connection, role: str) -> None:
    """Let `role` read and write every table (now and later) without owning any: run as the
    owner. The app connecting as such a role is bound by every policy."""
    quoted = connection.dialect.identifier_preparer.quote(role)
    for statement in (
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {quoted}",
    ):
        connection.execute(text(statement))


def role_escapes_rls(connection) -> bool:
    """True when the connected role is a superuser or has BYPASSRLS: no policy binds it."""
    return bool(
        connection.execute(
            text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).scalar()
    )
