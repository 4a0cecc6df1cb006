#!/usr/bin/env bash
# Set everything up and run Billfold on embedded defaults: SQLite, eager tasks, no servers needed.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh

export BILLFOLD_ENV=development
unset DATABASE_URL REDIS_URL
export PLATFORM_DOMAIN=${PLATFORM_DOMAIN:-localhost:5000}
port=${PLATFORM_DOMAIN##*:}
[ "$port" = "$PLATFORM_DOMAIN" ] && port=5000

.venv/bin/python -m flask --app wsgi db upgrade 2>&1 | grep -v '^INFO' || true
.venv/bin/python -m flask --app wsgi demo seed
echo "Platform home: http://$PLATFORM_DOMAIN/   (Ctrl-C stops the demo)"
exec .venv/bin/python -m flask --app wsgi run --host 127.0.0.1 --port "$port"
