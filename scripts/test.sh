#!/usr/bin/env bash
# Set everything up and run the whole test suite: lint, migration drift, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
bash scripts/services.sh

export CI=${CI:-true}
export BILLFOLD_ENV=testing
export DATABASE_URL=${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}
export TEST_DATABASE_URL=$DATABASE_URL

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

echo "== migrations: a fresh database, every migration, then check models and migrations agree"
check_db=billfold_migration_check
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $check_db" -c "CREATE DATABASE $check_db"
DATABASE_URL=postgresql://postgres@127.0.0.1:5432/$check_db \
  .venv/bin/python -m flask --app wsgi db upgrade 2>&1 | grep -v '^INFO' || true
DATABASE_URL=postgresql://postgres@127.0.0.1:5432/$check_db \
  .venv/bin/python -m flask --app wsgi db check 2>&1 | grep -v '^INFO'

echo "== layering: import-linter contracts in pyproject.toml (docs/architecture.md)"
.venv/bin/lint-imports

echo "== pytest"
.venv/bin/python -m pytest "$@"
