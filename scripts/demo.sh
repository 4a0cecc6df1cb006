#!/usr/bin/env bash
# Set everything up and run the Billfold demo: Stripe emulator, SQLite, in-process tasks,
# a seeded merchant at http://acme.localhost:5000/ and a mailbox at http://localhost:5000/dev/mailbox/.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
exec .venv/bin/python -m app.demo "$@"
