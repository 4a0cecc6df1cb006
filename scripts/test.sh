#!/usr/bin/env bash
# Set everything up and run the whole test suite: lint, then pytest (migration drift included:
# tests/test_migrations.py). The tests start their own PostgreSQL and Redis on free ports, so no
# server, password or database of the machine's is needed; TEST_DATABASE_URL / TEST_REDIS_URL
# point them at existing ones instead.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
bash scripts/services.sh --install-only

export CI=${CI:-true}
export BILLFOLD_ENV=testing

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

echo "== layering: import-linter contracts in pyproject.toml (docs/architecture.md)"
.venv/bin/lint-imports

echo "== pytest"
.venv/bin/python -m pytest "$@"
