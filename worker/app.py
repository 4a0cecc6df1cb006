"""Worker entry point: `celery -A worker.app worker` (and `beat`)."""

import sys

from config import ConfigError

try:
    from app.factory import create_app

    flask_app = create_app()
except ConfigError as exc:
    # As wsgi.py: one readable line and a non-zero exit instead of a traceback.
    print(f"billfold: configuration error: {exc}", file=sys.stderr)
    sys.exit(2)
celery_app = flask_app.extensions["celery"]
